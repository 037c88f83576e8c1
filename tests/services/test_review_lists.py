"""The monitor's open queries as the coordinator's board and every staff page's count show them:
only the user's sites, oldest first, whether the user covers every site (no join to the
participant) or some of them."""

from __future__ import annotations

from datetime import timedelta

from pro_app import clock
from pro_app.extensions import db
from pro_app.models import Response, Role, Site
from pro_app.questionnaire.catalog import catalog
from pro_app.services import answering, review, sealing
from tests.factories import make_participant, make_site, make_staff, visit_of


def _record(study_id: str, site: Site) -> Response:
    visit = visit_of(make_participant(study_id, site=site))
    mlhfq = catalog().instrument("mlhfq")
    for item_id in mlhfq.item_ids:
        answering.save_answer(visit, mlhfq, item_id, 1, language="en", actor="participant:x")
    return sealing.submit(visit, mlhfq, catalog(), language="en", actor="participant:x")


def test_open_queries_are_listed_and_counted_per_site_oldest_first() -> None:
    east, west = make_site("SEH"), make_site("WST")
    monitor = make_staff("monitor-lists", Role.MONITOR, [east, west])
    start = clock.utcnow()
    raised = []
    for number, site in enumerate([west, east, west, east]):
        with clock.frozen(start + timedelta(minutes=number)):
            record = _record(f"PRIME-{number + 1:03d}", site)
            raised.append(
                review.raise_query(
                    record, field="", text=f"query {number}", staff=monitor, fields=[]
                )
            )
    with clock.frozen(start + timedelta(minutes=9)):
        review.close_query(raised[2], staff=monitor, text="All fine.")
    db.session.commit()

    def shown(site_ids: set[int]) -> list[str]:
        return [row.question for row in review.pending(site_ids)]

    both = {east.id, west.id}
    # Every site: no join to the participant.
    assert shown(both) == ["query 0", "query 1", "query 3"]
    assert review.count_pending(both) == 3
    assert shown({east.id}) == ["query 1", "query 3"]
    assert review.count_pending({east.id}) == 2
    assert shown({west.id}) == ["query 0"]
    assert review.count_pending({west.id}) == 1
    assert [row.study_id for row in review.pending(both, limit=2)] == ["PRIME-001", "PRIME-002"]
    assert shown(set()) == [] and review.count_pending(set()) == 0
