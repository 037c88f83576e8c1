"""Finding the participants and visits a staff member may see: through their sites, never by id."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import joinedload

from pro_app.database import one_of
from pro_app.errors import NotFoundHere
from pro_app.extensions import db
from pro_app.models import Participant, ParticipantStatus, Site, Visit
from pro_app.models.rows import VISIT_ROWS, Columns, VisitRow, visit_row

PER_PAGE = 25


def sites_of(site_ids: set[int]) -> list[Site]:
    if not site_ids:
        return []
    return list(db.session.scalars(select(Site).where(Site.id.in_(site_ids)).order_by(Site.code)))


def site_for(site_ids: set[int], site_id: int | None) -> Site:
    site = db.session.get(Site, site_id) if site_id is not None else None
    if site is None or site.id not in site_ids:
        raise NotFoundHere()
    return site


def site_by_code(site_ids: set[int], code: str) -> Site:
    """A site this user works at, by its code; otherwise NotFoundHere, as if unknown."""
    site = db.session.scalar(select(Site).where(Site.code == code))
    if site is None or site.id not in site_ids:
        raise NotFoundHere()
    return site


def participant_for(site_ids: set[int], participant_id: int) -> Participant:
    """The participant if at one of these sites; otherwise NotFoundHere, as if unknown."""
    participant = db.session.scalar(
        select(Participant).where(
            Participant.id == participant_id, Participant.site_id.in_(site_ids or {-1})
        )
    )
    if participant is None:
        raise NotFoundHere()
    return participant


def visit_for(site_ids: set[int], visit_id: int) -> Visit:
    visit = db.session.scalar(
        select(Visit)
        .join(Participant, Visit.participant_id == Participant.id)
        .where(Visit.id == visit_id, Participant.site_id.in_(site_ids or {-1}))
    )
    if visit is None:
        raise NotFoundHere()
    return visit


def study_id_contains(text: str) -> ColumnElement[bool]:
    """Study ids containing `text`, whatever its case; % and _ in it are taken literally."""
    escaped = text.strip().upper().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.upper(Participant.study_id).like(f"%{escaped}%", escape="\\")


@dataclass(frozen=True)
class ParticipantPage:
    items: list[Participant]
    total: int
    page: int
    pages: int


def search(
    site_ids: set[int],
    *,
    text: str = "",
    status: ParticipantStatus | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> ParticipantPage:
    """Participants at these sites, by study id, optionally one status, a page at a time."""
    query = select(Participant).where(Participant.site_id.in_(site_ids or {-1}))
    if text.strip():
        query = query.where(study_id_contains(text))
    if status is not None:
        query = query.where(Participant.status == status)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    items = list(
        db.session.scalars(
            query.options(joinedload(Participant.site))
            .order_by(Participant.study_id)
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    return ParticipantPage(items=items, total=total, page=page, pages=pages)


@cache
def _visits_of(dialect: str) -> Select[*Columns]:
    return VISIT_ROWS.where(one_of(Visit.participant_id, "participant_ids", dialect)).order_by(
        Visit.participant_id, Visit.day
    )


def visits_of(participants: Iterable[Participant]) -> dict[int, list[VisitRow]]:
    """Each participant's visits in schedule order, as plain rows (models/rows.py), in one query:
    a list page's progress needs 150 visits' dates, not 150 session objects."""
    ids = [participant.id for participant in participants]
    found: dict[int, list[VisitRow]] = {participant_id: [] for participant_id in ids}
    if ids:
        dialect = db.session.get_bind().dialect.name
        query = _visits_of(dialect)
        for row in db.session.connection().execute(query, {"participant_ids": ids}):
            visit = visit_row(row)
            found[visit.participant_id].append(visit)
    return found
