"""A participant's scores and walk distance across visits: each visit's value from its current
record, the change from baseline, and whether the change reaches the minimal clinically important
difference (MCID, instrument data: MLHFQ total 5 points, 6-minute walk distance 30 m)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from pro_app.extensions import db
from pro_app.languages import Bilingual
from pro_app.models import Participant, Response, Visit
from pro_app.questionnaire.catalog import Catalog
from pro_app.questionnaire.kinds.base import Measure
from pro_app.questionnaire.kinds.registry import kind_of


@dataclass(frozen=True)
class Point:
    visit_code: str
    visit_name: Bilingual
    day: int
    value: float
    record_id: int
    # Against the baseline visit's value (None at baseline or without one).
    change: float | None = None
    reaches_mcid: bool | None = None
    # "better" or "worse" when the change reaches the MCID.
    direction: str | None = None


@dataclass(frozen=True)
class Series:
    instrument_id: str
    instrument_short_title: Bilingual
    measure: Measure
    points: tuple[Point, ...]

    @property
    def baseline(self) -> Point | None:
        return self.points[0] if self.points and self.points[0].change is None else None


def current_records(participant: Participant) -> list[tuple[Visit, Response]]:
    """Each visit's current record per instrument (a voided newest version counts as none)."""
    rows = db.session.execute(
        select(Visit, Response)
        .join(Response, Response.visit_id == Visit.id)
        .where(Visit.participant_id == participant.id)
        .order_by(Visit.day, Response.instrument_id, Response.version)
    ).all()
    newest: dict[tuple[int, str], tuple[Visit, Response]] = {}
    for visit, record in rows:
        newest[(visit.id, record.instrument_id)] = (visit, record)
    return [(visit, record) for visit, record in newest.values() if not record.voided]


def participant_trends(participant: Participant, catalog: Catalog) -> list[Series]:
    """One series per measure of every instrument, over the visits that have a current record."""
    baseline_code = catalog.schedule.visits[0].code
    records = current_records(participant)
    series = []
    for instrument_id, instrument in catalog.instruments.items():
        own = [(v, r) for v, r in records if r.instrument_id == instrument_id]
        for measure in kind_of(instrument).measures(instrument):
            values = [
                (visit, record, value)
                for visit, record in own
                if (value := measure.value(record.scores)) is not None
            ]
            base = next((value for visit, _r, value in values if visit.code == baseline_code), None)
            points = []
            for visit, record, value in values:
                change = None if base is None or visit.code == baseline_code else value - base
                points.append(
                    Point(
                        visit_code=visit.code,
                        visit_name=_visit_name(catalog, visit.code),
                        day=visit.day,
                        value=value,
                        record_id=record.id,
                        change=round(change, 1) if change is not None else None,
                        reaches_mcid=(
                            abs(change) >= measure.mcid
                            if change is not None and measure.mcid is not None
                            else None
                        ),
                        direction=_direction(change, measure),
                    )
                )
            series.append(Series(instrument_id, instrument.short_title, measure, tuple(points)))
    return series


def _visit_name(catalog: Catalog, code: str) -> Bilingual:
    try:
        return catalog.schedule.visit(code).name
    except KeyError:  # a visit a protocol amendment removed from the schedule
        return Bilingual(code, code)


def _direction(change: float | None, measure: Measure) -> str | None:
    if change is None or measure.mcid is None or abs(change) < measure.mcid:
        return None
    worse = change > 0 if measure.higher_is_worse else change < 0
    return "worse" if worse else "better"
