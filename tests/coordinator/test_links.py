"""Issuing, reissuing and revoking visit links from the participant page, and what the patient
then sees. The token exists only in the issue-time page: never stored, logged or audited."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from pro_app.extensions import db
from pro_app.models import AuditEvent, Participant, VisitLink
from tests.actions import Patient, StaffBrowser
from tests.factories import TODAY, make_participant, visit_of
from tests.walklog import seal_log

_LINK = re.compile(r'id="link-url"[^>]*value="http://localhost/s/([A-Za-z0-9_\-]+)"')


def _issue(desk: StaffBrowser, participant: Participant, code: str = "baseline") -> tuple[int, str]:
    visit = visit_of(participant, code)
    page = f"/desk/participants/{participant.id}"
    response = desk.post(f"/desk/visits/{visit.id}/link", page_url=page)
    if response.status_code == 303:  # post/redirect/get: the link is shown by the GET
        response = desk.get(response.location)
    return response.status_code, response.get_data(as_text=True)


def _token(page: str) -> str:
    match = _LINK.search(page)
    assert match, "the issue page shows no link"
    return match.group(1)


def _links() -> list[VisitLink]:
    return list(db.session.scalars(select(VisitLink).order_by(VisitLink.id)))


def test_issue_shows_link_qr_and_a_bilingual_slip_once(
    client: FlaskClient, desk: StaffBrowser
) -> None:
    participant = make_participant()
    db.session.commit()
    visit = visit_of(participant)
    posted = desk.post(
        f"/desk/visits/{visit.id}/link", page_url=f"/desk/participants/{participant.id}"
    )
    assert posted.status_code == 303 and posted.location == f"/desk/visits/{visit.id}/link/new"
    response = desk.get(posted.location)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    page = response.get_data(as_text=True)
    token = _token(page)
    assert page.count("<svg") == 2 and 'class="segno"' in page
    slip = page[page.index('<article class="slip"') : page.index("</article>")]
    zh, en = slip.index("PRIME研究：您的问卷"), slip.index("PRIME study: your questionnaire")
    assert zh < en, "Chinese comes first on the slip"
    assert "首次随访（治疗开始前）" in slip and "First visit (before treatment starts)" in slip
    assert "2026年11月11日" in slip and "25 Nov 2026" in slip
    assert "研究护士：021-0000 0000" in slip and "Study nurse: 021-0000 0000" in slip
    assert f"http://localhost/s/{token}" in slip.replace("<wbr>", "")
    assert re.fullmatch(r"([0-9A-HJKMNP-TV-Z]{4}-){6}[0-9A-HJKMNP-TV-Z]{4}", token), token
    for medical in ("心衰", "heart failure", "HFrEF", "MLHFQ", "明尼苏达", "infusion", "输注"):
        assert medical.lower() not in slip.lower(), medical
    assert 'data-copy="link-url"' in page and re.search(
        r'src="/static/js/staff\.[0-9a-f]{12}\.js"', page
    )
    # The token is nowhere but in that page.
    stored = _links()[0]
    assert stored.token_sha256 != token and stored.issued_by_id is not None
    trail = " ".join(f"{e.action} {e.details}" for e in db.session.scalars(select(AuditEvent)))
    assert token not in trail and "link.issued" in trail
    # ... and it works for the patient.
    assert client.application.test_client().get(f"/s/{token}").status_code == 200
    # The participant page never shows it again.
    again = desk.get(f"/desk/participants/{participant.id}").get_data(as_text=True)
    assert token not in again and "已发放链接" in again


def test_a_second_issue_is_refused_so_a_refresh_cannot_replace_a_link(desk: StaffBrowser) -> None:
    participant = make_participant()
    db.session.commit()
    assert _issue(desk, participant)[0] == 200
    status, page = _issue(desk, participant)
    assert status == 409
    assert "本次访视已有有效链接。如需替换，请使用“重新发放”并填写原因。" in page
    assert len(_links()) == 1 and _links()[0].revoked_at is None


def test_reissue_needs_a_reason_then_replaces_the_link(
    client: FlaskClient, desk: StaffBrowser
) -> None:
    participant = make_participant()
    db.session.commit()
    old = _token(_issue(desk, participant)[1])
    visit = visit_of(participant)
    page_url = f"/desk/participants/{participant.id}"
    refused = desk.post(f"/desk/visits/{visit.id}/link/reissue", {"reason": " "}, page_url=page_url)
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert f'id="reissue-reason-{visit.id}-error"' in text and "请填写原因" in text
    assert '<details class="action" open>' in text, "the form stays open beside its error"
    assert len(_links()) == 1
    posted = desk.post(
        f"/desk/visits/{visit.id}/link/reissue", {"reason": "phone lost"}, page_url=page_url
    )
    assert posted.status_code == 303
    response = desk.get(posted.location)
    assert response.status_code == 200
    new = _token(response.get_data(as_text=True))
    # A reload of that page shows the visit: no new link, the one just printed still works.
    reload = desk.get(posted.location)
    assert reload.status_code == 302 and reload.location == page_url
    assert len(_links()) == 2
    assert "已为PRIME-001重新发放链接 · 基线（第0天）" in response.get_data(as_text=True)
    patient = client.application.test_client()
    old_page = patient.get(f"/s/{old}")
    assert old_page.status_code == 410 and "这个链接已经失效" in old_page.get_data(as_text=True)
    assert patient.get(f"/s/{new}").status_code == 200
    reissued = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "link.reissued")
    ).one()
    assert reissued.details["reason"] == "phone lost" and reissued.actor == "staff:coord-a"
    revoked = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "link.revoked")
    ).one()
    assert revoked.details["link_id"] == _links()[0].id


def test_revoke_without_reissue(client: FlaskClient, desk: StaffBrowser) -> None:
    participant = make_participant()
    db.session.commit()
    token = _token(_issue(desk, participant)[1])
    patient = Patient(client.application.test_client(), token)
    patient.start()
    visit = visit_of(participant)
    page_url = f"/desk/participants/{participant.id}"
    # Revoking a link is named apart from voiding a record: both were a bare "作废…".
    before = desk.get(page_url).get_data(as_text=True)
    assert "作废链接…" in before and "作废…" not in before
    assert (
        desk.post(f"/desk/visits/{visit.id}/link/revoke", {}, page_url=page_url).status_code == 400
    )
    done = desk.post(
        f"/desk/visits/{visit.id}/link/revoke", {"reason": "wrong participant"}, page_url=page_url
    )
    assert done.status_code == 303
    assert patient.client.get("/visit/mlhfq/q/1").status_code == 410, "a started session ends too"
    assert patient.open_link().status_code == 410
    page = desk.get(page_url).get_data(as_text=True)
    assert "无有效链接" in page and "此前已作废1个链接" in page
    link = _links()[0]
    assert link.revoke_reason == "wrong participant" and link.revoked_by_id is not None
    # Revoking twice: nothing left to revoke.
    again = desk.post(
        f"/desk/visits/{visit.id}/link/revoke", {"reason": "again"}, page_url=page_url
    )
    assert again.status_code == 409 and "本次访视没有有效链接" in again.get_data(as_text=True)
    # A new link can be issued afterwards.
    assert _issue(desk, participant)[0] == 200


def test_a_link_before_the_window_tells_the_patient_when(
    client: FlaskClient, desk: StaffBrowser
) -> None:
    participant = make_participant()
    db.session.commit()
    status, page = _issue(desk, participant, "d43")
    assert status == 200 and "访视窗将于2026年12月31日开放" in page
    patient_page = client.application.test_client().get(f"/s/{_token(page)}")
    assert patient_page.status_code == 403
    assert "2026年12月31日" in patient_page.get_data(as_text=True)


def test_no_link_where_there_is_nothing_to_answer(
    desk: StaffBrowser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A protocol amendment may leave a visit with no instrument: no link is issued for it."""
    app = desk.client.application
    loaded = app.extensions["pro_catalog"]
    visits = tuple(
        dataclasses.replace(v, instruments=()) if v.code == "d7" else v
        for v in loaded.schedule.visits
    )
    amended = dataclasses.replace(
        loaded, schedule=dataclasses.replace(loaded.schedule, visits=visits)
    )
    monkeypatch.setitem(app.extensions, "pro_catalog", amended)
    closed = make_participant("PRIME-002", day0=TODAY - timedelta(days=10))
    participant = make_participant()
    db.session.commit()
    status, page = _issue(desk, participant, "d7")
    assert status == 409 and "本次访视没有问卷" in page
    status, page = _issue(desk, closed, "baseline")
    assert status == 410 and "访视窗已于2026年11月15日关闭" in page
    assert _links() == []


def test_no_link_for_a_visit_already_submitted(client: FlaskClient, desk: StaffBrowser) -> None:
    participant = make_participant()
    db.session.commit()
    patient = Patient(client.application.test_client(), _token(_issue(desk, participant)[1]))
    patient.start()
    patient.answer_all([0] * 21)
    patient.submit()
    visit = visit_of(participant)
    seal_log(visit)
    db.session.commit()
    page_url = f"/desk/participants/{participant.id}"
    status = desk.post(
        f"/desk/visits/{visit.id}/link/reissue", {"reason": "try"}, page_url=page_url
    ).status_code
    assert status == 409
    assert db.session.scalar(select(func.count()).select_from(VisitLink)) == 1


def test_an_overlong_reason_is_refused_with_its_own_message(desk: StaffBrowser) -> None:
    participant = make_participant()
    db.session.commit()
    _issue(desk, participant)
    visit = visit_of(participant)
    page_url = f"/desk/participants/{participant.id}"
    refused = desk.post(
        f"/desk/visits/{visit.id}/link/revoke", {"reason": "x" * 501}, page_url=page_url
    )
    assert refused.status_code == 400
    assert "原因请不要超过500个字符" in refused.get_data(as_text=True)
    assert _links()[0].revoked_at is None


def test_a_visit_done_only_at_the_clinic_gets_no_patient_link(desk: StaffBrowser) -> None:
    participant = make_participant(day0=TODAY - timedelta(days=7))
    db.session.commit()
    page = desk.get(f"/desk/participants/{participant.id}").get_data(as_text=True)
    d7 = visit_of(participant, "d7")
    assert f'action="/desk/visits/{d7.id}/link"' not in page
    assert f'action="/desk/visits/{d7.id}/staff-entry"' in page
    status, refused = _issue(desk, participant, "d7")
    assert status == 409 and "本次访视没有受试者自己填写的内容" in refused
    assert _links() == []
