"""Every interface string is extracted, and translated into Simplified Chinese (and English)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from pro_app.config import REPO_ROOT

TRANSLATIONS = REPO_ROOT / "translations"


def _catalog(path: Path):  # type: ignore[no-untyped-def]
    with path.open("rb") as handle:
        return read_po(handle)


def test_extraction_is_up_to_date(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
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
            "-k",
            "lazy_pgettext:1c,2",
            "--no-location",
            "--sort-output",
            "-o",
            str(fresh),
            "pro_app",
            "templates",
        ],
        cwd=REPO_ROOT,
        check=True,
    )
    # A message is its context and its words ("Open" a visit state, or a query's status).
    committed = {(m.context, m.id) for m in _catalog(TRANSLATIONS / "messages.pot") if m.id}
    extracted = {(m.context, m.id) for m in _catalog(fresh) if m.id}
    assert extracted == committed, "run `make i18n`: messages.pot is out of date"


@pytest.mark.parametrize("language", ["zh_Hans", "en"])
def test_every_message_is_translated(language: str) -> None:
    template = {(m.context, m.id) for m in _catalog(TRANSLATIONS / "messages.pot") if m.id}
    catalog = _catalog(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po")
    translated = {
        (m.context, m.id)
        for m in catalog
        if m.id and not m.fuzzy and (all(m.string) if isinstance(m.string, tuple) else m.string)
    }
    assert template - translated == set(), f"untranslated in {language}"


def test_chinese_keeps_every_placeholder() -> None:
    catalog = _catalog(TRANSLATIONS / "zh_Hans" / "LC_MESSAGES" / "messages.po")
    for message in catalog:
        if not message.id:
            continue
        source = message.id if isinstance(message.id, str) else message.id[0]
        targets = message.string if isinstance(message.string, tuple) else (message.string,)
        for name in re.findall(r"%\((\w+)\)s", source):
            for target in targets:
                assert f"%({name})s" in target, f"{source!r} lost %({name})s"


def test_chinese_catalogue_reads_like_chinese() -> None:
    catalog = _catalog(TRANSLATIONS / "zh_Hans" / "LC_MESSAGES" / "messages.po")
    for message in catalog:
        if not message.id:
            continue
        target = message.string if isinstance(message.string, str) else message.string[0]
        if any(ch.isalpha() for ch in target.replace("%(", "").replace(")s", "")):
            assert any("\u4e00" <= ch <= "\u9fff" for ch in target), f"not Chinese: {target!r}"
