"""Progress of a draft with nothing saved: the same for every visit, worked out once."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pro_app.questionnaire.catalog import load_catalog
from pro_app.questionnaire.kinds.base import CheckContext
from pro_app.questionnaire.kinds.registry import kind_of

CONTEXTS = (
    CheckContext(
        today=date(2026, 12, 1), window_start=date(2026, 11, 28), window_end=date(2026, 12, 4)
    ),
    CheckContext(
        today=date(2027, 6, 1), window_start=date(2027, 7, 1), window_end=date(2027, 7, 8)
    ),
)


def test_not_started_is_the_progress_of_an_empty_draft_at_any_visit(tmp_path: Path) -> None:
    catalog = load_catalog(tmp_path)
    instruments = [catalog.instrument(i) for i in catalog.schedule.visit("baseline").instruments]
    assert {i.id for i in instruments} == {"mlhfq", "sixmwt"}
    for instrument in instruments:
        kind = kind_of(instrument)
        once = kind.not_started(instrument)
        assert kind.not_started(instrument) is once  # worked out once
        for check in CONTEXTS:
            assert kind.progress(instrument, {}, check) == once, instrument.id
        assert not once.started and once.answered == 0


def test_each_definition_has_its_own_not_started(tmp_path: Path) -> None:
    first, second = load_catalog(tmp_path), load_catalog(tmp_path)
    a, b = first.instrument("sixmwt"), second.instrument("sixmwt")
    assert a is not b
    assert kind_of(a).not_started(a) is not kind_of(b).not_started(b)
    assert kind_of(a).not_started(a) == kind_of(b).not_started(b)
