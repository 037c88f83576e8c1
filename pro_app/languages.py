"""The languages PRIME-PRO speaks, and text that comes in each of them (pure: no Flask here)."""

from __future__ import annotations

from dataclasses import dataclass

# The one list of supported languages: pages, text packs, enrolment, staff accounts, the CLI.
LANGUAGES = ("zh_Hans", "en")
DEFAULT = "zh_Hans"
ENGLISH = "en"
LANGUAGE_NAMES = {"zh_Hans": "中文", "en": "English"}


def is_chinese(locale: str) -> bool:
    return locale.startswith("zh")


def html_lang(locale: str) -> str:
    """The BCP 47 tag for `lang`: zh-Hans makes fonts pick Simplified glyph forms."""
    return "zh-Hans" if is_chinese(locale) else "en"


def speech_lang(locale: str) -> str:
    """The tag the browser's speech synthesis expects (zh-CN voices, English ones)."""
    return "zh-CN" if is_chinese(locale) else "en-GB"


@dataclass(frozen=True)
class Bilingual:
    """A data-file string in Chinese and English: `text(locale)` picks the one for a page."""

    zh: str
    en: str

    def __call__(self, locale: str) -> str:
        return self.zh if is_chinese(locale) else self.en
