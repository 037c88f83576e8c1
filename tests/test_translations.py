"""Translations: the template is up to date, every message has its Chinese, English is the msgid."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from pro_app.config import REPO_ROOT

TRANSLATIONS = REPO_ROOT / "translations"


def _catalog(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def _ids(catalog: Catalog) -> set[object]:
    return {message.id for message in catalog if message.id}


def test_the_committed_template_matches_the_code(tmp_path: Path) -> None:
    extracted = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "-q",
            "extract",
            "-F",
            str(TRANSLATIONS / "babel.cfg"),
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(extracted),
            ".",
        ],
        cwd=REPO_ROOT,
        check=True,
    )
    assert _ids(_catalog(extracted)) == _ids(_catalog(TRANSLATIONS / "messages.pot")), (
        "run `make i18n` and translate the new messages"
    )


def test_every_message_has_its_chinese_translation() -> None:
    template = _ids(_catalog(TRANSLATIONS / "messages.pot"))
    chinese = _catalog(TRANSLATIONS / "zh_Hans" / "LC_MESSAGES" / "messages.po")
    assert _ids(chinese) == template
    untranslated = [
        message.id
        for message in chinese
        if message.id
        and (
            message.fuzzy
            or not all(message.string if isinstance(message.string, tuple) else [message.string])
        )
    ]
    assert untranslated == []


def test_the_english_catalogue_says_the_msgid() -> None:
    english = _catalog(TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po")
    for message in english:
        if not message.id:
            continue
        expected = message.id if isinstance(message.id, str) else tuple(message.id)
        assert message.string == expected and not message.fuzzy, message.id
