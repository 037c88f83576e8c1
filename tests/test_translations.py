"""Every interface message is extracted, and translated: Chinese for real, English as itself."""

from __future__ import annotations

import re
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


def test_the_template_is_up_to_date(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [
            str(Path(sys.executable).parent / "pybabel"),
            "-q",
            "extract",
            "-F",
            str(TRANSLATIONS / "babel.cfg"),
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(fresh),
            ".",
        ],
        cwd=REPO_ROOT,
        check=True,
    )
    assert _ids(_catalog(fresh)) == _ids(_catalog(TRANSLATIONS / "messages.pot")), (
        "run `make i18n` and translate the new messages"
    )


def test_every_message_has_a_chinese_and_an_english_translation() -> None:
    template = _ids(_catalog(TRANSLATIONS / "messages.pot"))
    for language in ("zh_Hans", "en"):
        catalog = _catalog(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po")
        assert _ids(catalog) >= template, f"{language}: run `make i18n`"
        untranslated = [
            message.id
            for message in catalog
            if message.id
            and (
                message.fuzzy
                or not all(
                    message.string if isinstance(message.string, tuple) else [message.string]
                )
            )
        ]
        assert untranslated == [], f"{language}: {untranslated}"


def test_chinese_placeholders_match_the_english() -> None:
    catalog = _catalog(TRANSLATIONS / "zh_Hans" / "LC_MESSAGES" / "messages.po")
    for message in catalog:
        if not message.id:
            continue
        source = message.id[0] if isinstance(message.id, tuple) else message.id
        target = message.string[0] if isinstance(message.string, tuple) else message.string
        for placeholder in _placeholders(source):
            assert placeholder in target, f"{source!r}: {placeholder} missing in {target!r}"


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\(\w+\)s", text))
