"""Staff entering a visit for the participant: the patient screens, a clear bar, and a record that
says who entered it and why."""

from __future__ import annotations

import re
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select

from pro_app import clock
from pro_app.extensions import db
from pro_app.models import AuditEvent, DraftAnswer, EnteredBy, Participant, Response, StaffUser
from tests.actions import Patient, StaffBrowser, csrf_of
from tests.factories import TODAY, issue_token, make_participant, visit_of
from tests.walklog import GOOD, seal_log


def _start(desk: StaffBrowser, participant: Participant, **data: str) -> object:
    visit = visit_of(participant)
    form = {"reason": "paper form transcribed", "language": "zh_Hans", **data}
    return desk.post(
        f"/desk/visits/{visit.id}/staff-entry",
        form,
        page_url=f"/desk/participants/{participant.id}",
    )


def _answer_all(client: FlaskClient, values: list[int]) -> None:
    for number, value in enumerate(values, 1):
        page = client.get(f"/visit/mlhfq/q/{number}")
        response = client.post(
            f"/visit/mlhfq/q/{number}",
            data={"csrf_token": csrf_of(page), "action": "next", "answer": str(value)},
        )
        assert response.status_code == 303


def test_staff_entry_is_attributed_to_the_staff_member_with_the_reason(
    desk: StaffBrowser, coordinator: StaffUser
) -> None:
    participant = make_participant(language="zh_Hans")
    db.session.commit()
    started = _start(desk, participant, language="en")
    assert started.status_code == 303 and started.location == "/visit"  # type: ignore[attr-defined]
    page = desk.get("/visit").get_data(as_text=True)
    assert 'Staff entry for <span class="staff-entry-id">PRIME-001</span>' in page
    assert "paper form transcribed" in page
    assert re.search(r"/static/css/staff-entry\.[0-9a-f]{12}\.css", page)
    _answer_all(desk.client, [3] * 21)
    draft = db.session.scalars(select(DraftAnswer)).first()
    assert draft is not None and draft.entered_by is EnteredBy.STAFF
    assert draft.staff_id == coordinator.id
    confirm = desk.get("/visit/mlhfq/submit")
    done = desk.client.post("/visit/mlhfq/submit", data={"csrf_token": csrf_of(confirm)})
    assert done.status_code == 303
    record = db.session.scalars(select(Response)).one()
    assert record.entered_by is EnteredBy.STAFF and record.staff_id == coordinator.id
    assert record.entry_reason == "paper form transcribed" and record.language == "en"
    actors = {
        e.action: e.actor
        for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.participant_id.is_not(None))
        )
    }
    assert actors["answer.saved"] == "staff:coord-a"
    assert actors["response.submitted"] == "staff:coord-a"
    started_event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "staff_entry.started")
    ).one()
    assert started_event.details == {"reason": "paper form transcribed", "language": "en"}
    # The coordinator sees the attribution on the participant page.
    end = desk.post("/desk/staff-entry/end", page_url="/visit")
    assert end.location == f"/desk/participants/{participant.id}"
    summary = desk.get(end.location).get_data(as_text=True)
    assert "由研究人员coord-a代录入" in summary
    assert desk.get("/visit").status_code == 401, "the browser is no longer in staff entry"
    assert "staff_entry.ended" in {e.action for e in db.session.scalars(select(AuditEvent))}


def test_the_participant_then_sees_the_visit_as_done(
    client: FlaskClient, desk: StaffBrowser
) -> None:
    participant = make_participant()
    token = issue_token(participant)
    _start(desk, participant)
    _answer_all(desk.client, [1] * 21)
    desk.client.post(
        "/visit/mlhfq/submit", data={"csrf_token": csrf_of(desk.get("/visit/mlhfq/submit"))}
    )
    landing = Patient(client.application.test_client(), token).open_link().get_data(as_text=True)
    assert '心衰生活质量问卷 <span class="tag ok">已完成</span>' in " ".join(landing.split())
    seal_log(visit_of(participant))
    db.session.commit()
    landing = Patient(client.application.test_client(), token).open_link().get_data(as_text=True)
    assert "我们已收到您的回答" in landing


def test_staff_entry_needs_a_reason(desk: StaffBrowser) -> None:
    participant = make_participant()
    db.session.commit()
    refused = _start(desk, participant, reason="")
    assert refused.status_code == 400  # type: ignore[attr-defined]
    text = refused.get_data(as_text=True)  # type: ignore[attr-defined]
    assert "请填写原因" in text and '<details class="action" open>' in text
    assert desk.get("/visit").status_code == 401


def test_staff_entry_keeps_to_the_window(desk: StaffBrowser) -> None:
    early = make_participant("PRIME-002", day0=TODAY + timedelta(days=30))
    late = make_participant("PRIME-003", day0=TODAY - timedelta(days=10))
    db.session.commit()
    too_early = _start(desk, early)
    assert too_early.status_code == 403  # type: ignore[attr-defined]
    assert "开放，届时才能代录入" in too_early.get_data(as_text=True)  # type: ignore[attr-defined]
    assert _start(desk, late).status_code == 410  # type: ignore[attr-defined]


def test_staff_entry_ends_with_the_staff_session(desk: StaffBrowser) -> None:
    participant = make_participant()
    db.session.commit()
    _start(desk, participant)
    assert desk.get("/visit/mlhfq/q/1").status_code == 200
    clock.advance(timedelta(minutes=16))
    gone = desk.get("/visit/mlhfq/q/1")
    assert gone.status_code == 401
    assert "代录入已结束" in gone.get_data(as_text=True)
    assert "Staff entry has ended" in gone.get_data(as_text=True)


def test_sign_out_ends_staff_entry(desk: StaffBrowser) -> None:
    participant = make_participant()
    db.session.commit()
    _start(desk, participant)
    desk.post("/staff/logout", page_url="/visit")
    assert desk.get("/visit").status_code == 401


def test_patient_pages_show_no_bar_for_a_patient(client: FlaskClient) -> None:
    patient = Patient(client, issue_token(make_participant()))
    patient.start()
    page = client.get("/visit/mlhfq/q/1").get_data(as_text=True)
    assert "staff-entry-bar" not in page and "staff-entry.css" not in page
    record_check = db.session.scalars(select(DraftAnswer)).all()
    assert record_check == []


def test_the_6mwt_log_entered_by_staff_through_the_web_is_attributed(
    desk: StaffBrowser, coordinator: StaffUser
) -> None:
    """The assessor fills the walk log alone, in staff-entry mode: the record names them and why."""
    participant = make_participant()
    db.session.commit()
    _start(desk, participant, reason="assessor entered the worksheet")
    for screen, values in GOOD.items():
        url = f"/visit/sixmwt/part/{screen}"
        data: dict[str, object] = {"csrf_token": csrf_of(desk.get(url)), **values}
        saved = desk.client.post(url, data=data)
        assert saved.status_code == 303, saved.get_data(as_text=True)[:500]
    submitted = desk.client.post(
        "/visit/sixmwt/submit", data={"csrf_token": csrf_of(desk.get("/visit/sixmwt/submit"))}
    )
    assert submitted.status_code == 303
    record = db.session.scalars(select(Response).where(Response.instrument_id == "sixmwt")).one()
    assert record.entered_by is EnteredBy.STAFF and record.staff_id == coordinator.id
    assert record.entry_reason == "assessor entered the worksheet"
    drafts_by = {
        e.actor
        for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("%saved%")))
    }
    assert drafts_by == {"staff:coord-a"}
