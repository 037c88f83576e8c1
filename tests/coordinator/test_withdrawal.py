"""Withdrawal: a reason and a confirmation; links stop at once; everything recorded stays."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select

from pro_app.extensions import db
from pro_app.models import AuditEvent, ParticipantStatus, Response, VisitLink
from tests.actions import Patient, StaffBrowser
from tests.factories import issue_token, make_participant, visit_of


def test_withdrawal_needs_reason_and_confirmation(client: FlaskClient, desk: StaffBrowser) -> None:
    participant = make_participant()
    db.session.commit()
    url = f"/desk/participants/{participant.id}/withdraw"
    page = desk.get(url).get_data(as_text=True)
    assert "目前没有需要作废的有效链接。" in page and "0个" not in page
    for data in ({"reason": "", "confirm": "y"}, {"reason": "moved to another city"}):
        refused = desk.post(url, data, page_url=url)
        assert refused.status_code == 400
    assert "请勾选以确认" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert participant.status is ParticipantStatus.ACTIVE


def test_withdrawal_stops_links_and_keeps_records(client: FlaskClient, desk: StaffBrowser) -> None:
    participant = make_participant()
    patient = Patient(client.application.test_client(), issue_token(participant))
    patient.start()
    patient.answer_all([2] * 21)
    patient.submit()
    d43_token = issue_token(participant, "d43")
    db.session.commit()
    url = f"/desk/participants/{participant.id}/withdraw"
    assert "2个有效链接将立即作废" in desk.get(url).get_data(as_text=True)
    done = desk.post(url, {"reason": "moved to another city", "confirm": "y"}, page_url=url)
    assert done.status_code == 303
    db.session.expire_all()
    assert participant.status is ParticipantStatus.WITHDRAWN
    assert participant.withdrawal_reason == "moved to another city"
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1
    assert all(link.revoked_at is not None for link in db.session.scalars(select(VisitLink)))
    assert client.application.test_client().get(f"/s/{d43_token}").status_code == 410
    page = desk.get(f"/desk/participants/{participant.id}").get_data(as_text=True)
    assert "已于2026年11月25日 10:00（北京时间）退出" in page and "moved to another city" in page
    assert ">发放链接<" not in page and "代录入…" not in page and "不再收集（已退出）" in page
    # Nothing new for a withdrawn participant, even by posting directly.
    visit = visit_of(participant, "d91")
    refused = desk.post(
        f"/desk/visits/{visit.id}/link", page_url=f"/desk/participants/{participant.id}"
    )
    assert refused.status_code == 410 and "该受试者已退出" in refused.get_data(as_text=True)
    assert desk.get(url).status_code == 302, "a second withdrawal is not offered"
    actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions[-2:] == ["link.revoked", "participant.withdrawn"]
    listing = desk.get("/desk/participants?status=withdrawn").get_data(as_text=True)
    assert "PRIME-001" in listing
    assert "PRIME-001" not in desk.get("/desk/participants").get_data(as_text=True)
