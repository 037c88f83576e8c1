"""Every bad-link case gets a clear bilingual page and the right status; GET never changes state."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from pro_app import clock
from pro_app.errors import ParticipantWithdrawn
from pro_app.extensions import db
from pro_app.models import AuditEvent, ParticipantStatus, VisitLink
from pro_app.questionnaire.catalog import catalog
from pro_app.services import links, sealing
from tests.actions import Patient
from tests.factories import TODAY, issue_token, make_participant, make_site, visit_of
from tests.walklog import fill_log, sixmwt


def _bilingual(page: str, zh: str, en: str) -> None:
    assert zh in page and en in page


def test_opening_a_link_changes_nothing(client: FlaskClient) -> None:
    token = issue_token(make_participant())
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    for _ in range(3):
        assert client.get(f"/s/{token}").status_code == 200
        client.head(f"/s/{token}")
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before
    assert db.session.scalars(select(VisitLink)).one().first_started_at is None


def test_unknown_link(client: FlaskClient) -> None:
    page = client.get("/s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    assert page.status_code == 404
    _bilingual(page.get_data(as_text=True), "这个链接打不开", "This link does not work")


def test_an_error_page_puts_the_patients_language_first(client: FlaskClient) -> None:
    """Both languages show (an unknown link names no participant), the page's own first: a
    patient who chose English read Chinese first under an English page."""
    unknown = "/s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    page = client.get(unknown).get_data(as_text=True)
    assert page.index("这个链接打不开") < page.index("This link does not work")
    page = client.get(unknown + "?lang=en").get_data(as_text=True)
    assert '<html lang="en"' in page
    assert page.index("This link does not work") < page.index("这个链接打不开")
    # Another phone, whose browser prefers English, chose nothing:
    other = client.application.test_client()
    page = other.get(unknown, headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert page.index("This link does not work") < page.index("这个链接打不开")


def test_revoked_link_and_reissue(client: FlaskClient) -> None:
    participant = make_participant()
    old = issue_token(participant)
    new = issue_token(participant)
    page = client.get(f"/s/{old}")
    assert page.status_code == 410
    _bilingual(page.get_data(as_text=True), "这个链接已经失效", "no longer valid")
    assert client.get(f"/s/{new}").status_code == 200


def test_revocation_ends_a_started_session_at_once(client: FlaskClient) -> None:
    participant = make_participant()
    patient = Patient(client, issue_token(participant))
    patient.start()
    link = links.active_link(visit_of(participant))
    assert link is not None
    links.revoke(link, actor="test", reason="phone lost")
    db.session.commit()
    assert client.get("/visit/mlhfq/q/1").status_code == 410


def test_link_before_the_window_says_when_it_opens(client: FlaskClient) -> None:
    participant = make_participant()
    page = client.get(f"/s/{issue_token(participant, 'd43')}")
    assert page.status_code == 403
    opens = visit_of(participant, "d43").window_start
    assert opens == TODAY + timedelta(days=36)
    _bilingual(page.get_data(as_text=True), "2026年12月31日", "31 Dec 2026")


def test_link_after_the_window_has_closed(client: FlaskClient) -> None:
    participant = make_participant(day0=TODAY - timedelta(days=10))
    token = issue_token(participant, "baseline")
    page = client.get(f"/s/{token}")
    assert page.status_code == 410
    _bilingual(page.get_data(as_text=True), "本次随访的填写时间已过", "has ended")


def test_window_edges_are_site_calendar_days(client: FlaskClient) -> None:
    # Day 0 was 2 days ago: the D7 window opens today (2026-11-25) in Shanghai.
    participant = make_participant(day0=TODAY - timedelta(days=7 - 2))
    token = issue_token(participant, "d7")
    # 23:59 on the 24th in Shanghai is 15:59 UTC: still closed.
    with clock.frozen(clock.utcnow().replace(day=24, hour=15, minute=59)):
        assert client.get(f"/s/{token}").status_code == 403
    # 00:00 on the 25th in Shanghai is 16:00 UTC on the 24th: open.
    with clock.frozen(clock.utcnow().replace(day=24, hour=16, minute=0)):
        page = client.get(f"/s/{token}")
        assert page.status_code == 200


def test_withdrawn_participant(client: FlaskClient) -> None:
    participant = make_participant()
    token = issue_token(participant)
    participant.status = ParticipantStatus.WITHDRAWN
    db.session.commit()
    assert client.get(f"/s/{token}").status_code == 410


def test_submitted_link_shows_thanks_not_the_form(client: FlaskClient) -> None:
    participant = make_participant()
    token = issue_token(participant)
    patient = Patient(client, token)
    patient.start()
    patient.answer_all([1] * 21)
    patient.submit()
    # The 6MWT log is still open, but it is the clinic's to do: the patient is done.
    page = Patient(client, token).open_link().get_data(as_text=True)
    assert "我们已收到您的回答" in page and "start_token" not in page
    fill_log(visit_of(participant))
    sealing.submit(
        visit_of(participant), sixmwt(), catalog(), language="zh_Hans", actor="participant:test"
    )
    db.session.commit()
    page = Patient(client, token).open_link().get_data(as_text=True)
    assert "我们已收到您的回答" in page and "start_token" not in page


def test_start_needs_the_link_bound_token(client: FlaskClient) -> None:
    token = issue_token(make_participant())
    assert client.post(f"/s/{token}", data={"start_token": "0" * 64}).status_code == 400
    assert client.post(f"/s/{token}").status_code == 400
    assert db.session.scalars(select(VisitLink)).one().first_started_at is None


def test_start_keeps_the_first_start_and_moves_the_last(client: FlaskClient) -> None:
    token = issue_token(make_participant())
    patient = Patient(client, token)
    assert patient.start().status_code == 303
    first = clock.utcnow()
    clock.advance(timedelta(hours=2))
    assert Patient(client, token).start().status_code == 303
    link = db.session.scalars(select(VisitLink)).one()
    db.session.refresh(link)
    assert link.first_started_at == first
    assert link.last_started_at == first + timedelta(hours=2)
    started = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "link.started")
    ).all()
    assert [event.occurred_at for event in started] == [first, first + timedelta(hours=2)]
    assert {event.details["link_id"] for event in started} == {link.id}


def test_start_refuses_a_cross_site_post(client: FlaskClient) -> None:
    token = issue_token(make_participant())
    landing = client.get(f"/s/{token}").get_data(as_text=True)
    start_token = re.search(r'name="start_token" value="([0-9a-f]+)"', landing)
    assert start_token
    response = client.post(
        f"/s/{token}",
        data={"start_token": start_token.group(1)},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403


def test_no_other_participants_data_through_a_started_session(client: FlaskClient) -> None:
    mine = make_participant("PRIME-001")
    other = make_participant("PRIME-002")
    other_patient = Patient(client.application.test_client(), issue_token(other))
    other_patient.start()
    other_patient.answer(1, 5)
    patient = Patient(client, issue_token(mine))
    patient.start()
    page = client.get("/visit/mlhfq/q/1").get_data(as_text=True)
    assert "checked" not in page
    assert "PRIME-002" not in page and "PRIME-001" not in page


@pytest.mark.parametrize(
    "path", ["/visit", "/visit/mlhfq", "/visit/mlhfq/q/1", "/visit/mlhfq/review"]
)
def test_clean_urls_need_a_started_visit(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 401


def test_tokens_are_stored_only_as_hashes(client: FlaskClient) -> None:
    token = issue_token(make_participant())
    stored = db.session.scalars(select(VisitLink)).one()
    assert token not in stored.token_sha256 and len(stored.token_sha256) == 64
    assert len(token) >= 32  # 192 bits, URL-safe base64
    details = " ".join(str(e.details) for e in db.session.scalars(select(AuditEvent)))
    assert token not in details


def test_withdrawn_participants_get_no_new_links(client: FlaskClient) -> None:
    participant = make_participant()
    participant.status = ParticipantStatus.WITHDRAWN
    db.session.flush()
    # The empty alternative in the old match="ParticipantWithdrawn|" matched any exception.
    with pytest.raises(ParticipantWithdrawn):
        links.issue(visit_of(participant), actor="test")
    assert db.session.scalar(select(func.count()).select_from(VisitLink)) == 0


def test_every_error_page_offers_the_sites_phone(client: FlaskClient) -> None:
    participant = make_participant()
    token = issue_token(participant)
    db.session.commit()
    Patient(client, token)  # a browser that never started
    pages = {
        "unknown": client.get("/s/no-such-link-here"),
        "lost session": client.get("/visit"),
    }
    participant.status = ParticipantStatus.WITHDRAWN
    db.session.commit()
    pages["withdrawn"] = client.get(f"/s/{token}")
    for name, page in pages.items():
        text = page.get_data(as_text=True)
        assert page.status_code >= 400, name
        assert 'href="tel:+862100000000"' in text, name
        # The site's words, each number in them kept on one line.
        number = '<span class="number">021-0000 0000</span>'
        assert f"研究护士：{number}" in text and f"Study nurse: {number}" in text, name
        assert "给研究护士打电话" in text and "Call the study nurse" in text, name


def test_a_typed_link_works_in_either_case_with_or_without_dashes(client: FlaskClient) -> None:
    token = issue_token(make_participant())
    assert re.fullmatch(r"([0-9A-HJKMNP-TV-Z]{4}-){6}[0-9A-HJKMNP-TV-Z]{4}", token)
    plain = token.replace("-", "")
    for typed in (token, token.lower(), plain, plain.lower(), " ".join(token.split("-"))):
        assert client.get(f"/s/{typed}").status_code == 200, typed
    # Look-alikes typed by hand are read as the digits they resemble.
    look_alike = plain.replace("1", "l").replace("0", "O")
    assert client.get(f"/s/{look_alike}").status_code == 200
    assert client.get(f"/s/{plain[:-1]}").status_code == 404


def test_a_token_issued_before_the_typable_alphabet_still_works(client: FlaskClient) -> None:
    participant = make_participant()
    old = "Old_Style-token_0123456789abcdefABCD"
    db.session.add(
        VisitLink(
            visit_id=visit_of(participant).id,
            token_sha256=hashlib.sha256(old.encode()).hexdigest(),
            issued_at=clock.utcnow(),
        )
    )
    db.session.commit()
    assert client.get(f"/s/{old}").status_code == 200
    assert client.get(f"/s/{old.lower()}").status_code == 404


def test_an_error_on_a_started_visit_offers_its_own_sites_phone(client: FlaskClient) -> None:
    """The site of the visit in hand, read with it, not the first site there is."""
    make_site()  # the first site: its phone must not be the one shown
    other = make_site("SH2")
    other.phone = "+86 21 5555 0101"
    other.contact_en, other.contact_zh = "Nurse Wang: 021-5555 0101", "王护士：021-5555 0101"
    participant = make_participant("PRIME-812", site=other)
    patient = Patient(client, issue_token(participant))
    assert patient.start().status_code == 303
    link = db.session.scalar(
        select(VisitLink).where(VisitLink.visit_id == visit_of(participant).id)
    )
    assert link is not None
    links.revoke(link, actor="test", reason="lost phone")
    db.session.commit()
    page = client.get(patient.item_url(1))
    text = page.get_data(as_text=True)
    assert page.status_code >= 400
    assert 'href="tel:+862155550101"' in text
    number = '<span class="number">021-5555 0101</span>'
    assert f"王护士：{number}" in text and f"Nurse Wang: {number}" in text
    assert "+862100000000" not in text
