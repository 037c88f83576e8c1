"""A patient's screens read their visit, participant, site and link as plain rows, not as session
objects (models/rows.py): the four ORM objects cost twice what their query did."""

from __future__ import annotations

from typing import Any

from flask import Flask, template_rendered

from pro_app.extensions import db
from pro_app.models import Participant, Site, Visit, VisitLink
from pro_app.models.rows import VisitRow
from tests.actions import Patient
from tests.factories import issue_token, make_participant


def test_answer_screens_hold_no_session_objects_of_the_visit(app_ctx: Flask) -> None:
    patient = Patient(app_ctx.test_client(), issue_token(make_participant("PRIME-980")))
    patient.start()
    held: list[set[type]] = []
    visits: list[Any] = []

    def rendered(_app: Flask, template: Any, context: dict[str, Any], **_extra: Any) -> None:
        held.append({type(obj) for obj in db.session.identity_map.values()})
        visits.append(context.get("visit"))

    template_rendered.connect(rendered, app_ctx)
    try:
        assert patient.client.get(patient.item_url(1)).status_code == 200
        assert patient.answer(1, 3).status_code == 303
        assert patient.client.get("/visit").status_code == 200
    finally:
        template_rendered.disconnect(rendered, app_ctx)
    assert len(held) == 3  # the item, the item again before its answer, the visit
    for types in held:
        assert not types & {Visit, Participant, Site, VisitLink}, types
    assert isinstance(visits[-1], VisitRow)


def test_the_landing_page_holds_no_session_objects_of_the_visit(app_ctx: Flask) -> None:
    """The link's landing changes nothing: its link, visit, participant and site are rows too
    (as Start's, which stamps the link with one UPDATE)."""
    patient = Patient(app_ctx.test_client(), issue_token(make_participant("PRIME-981")))
    held: list[set[type]] = []

    def rendered(_app: Flask, **_extra: Any) -> None:
        held.append({type(obj) for obj in db.session.identity_map.values()})

    template_rendered.connect(rendered, app_ctx)
    try:
        assert patient.open_link().status_code == 200
    finally:
        template_rendered.disconnect(rendered, app_ctx)
    assert len(held) == 1
    assert not held[0] & {Visit, Participant, Site, VisitLink}, held[0]
    assert patient.start().status_code == 303  # the start token of the row's page still works
