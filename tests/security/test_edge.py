"""Input no page can mean is refused at the edge with a bilingual 400 page, and changes nothing.

Each case here was a 500 in the attack on this machine (issue 13)."""

from __future__ import annotations

import io
import json

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from pro_app.models import StaffUser
from tests.actions import Patient, StaffBrowser, csrf_of
from tests.factories import issue_token, make_participant, visit_of
from tests.security.conftest import state

REFUSED_EN = "could not be read"
REFUSED_ZH = "无法读取"


def assert_refused(response: TestResponse) -> None:
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    page = response.get_data(as_text=True)
    assert REFUSED_EN in page and REFUSED_ZH in page


def test_nul_in_the_sign_in_form_is_refused_and_writes_nothing(
    client: FlaskClient, coordinator: StaffUser
) -> None:
    page = client.get("/staff/login")
    before = state()
    response = client.post(
        "/staff/login",
        data={"csrf_token": csrf_of(page), "username": "coord-a\x00", "password": "x"},
    )
    assert_refused(response)
    assert state() == before


@pytest.mark.parametrize(
    "url",
    [
        "/desk/participants?q=%00",
        "/desk/participants?q=PRIME%00-001",
        "/desk/participants?status=%1b",
        "/desk/participants/%00",
        "/monitor/binder/SEH%00",
        "/desk/%0d%0a",
    ],
)
def test_control_characters_in_a_staff_url_get_the_refusal_page(
    desk: StaffBrowser, url: str
) -> None:
    before = state()
    assert_refused(desk.get(url))
    assert state() == before
    # The session is still good afterwards: the error page did not break the connection.
    assert desk.get("/desk/participants").status_code == 200


def test_nul_in_a_reason_is_refused_and_the_link_stays(
    desk: StaffBrowser, coordinator: StaffUser
) -> None:
    visit = visit_of(make_participant("PRIME-001"))
    issue_token(visit.participant)
    page_url = f"/desk/participants/{visit.participant_id}"
    before = state()
    for action in ("reissue", "revoke"):
        response = desk.post(
            f"/desk/visits/{visit.id}/link/{action}",
            {"reason": "lost the phone\x00 today"},
            page_url=page_url,
        )
        assert_refused(response)
    assert state() == before


def test_a_line_break_in_a_reason_is_still_fine(desk: StaffBrowser) -> None:
    visit = visit_of(make_participant("PRIME-001"))
    issue_token(visit.participant)
    response = desk.post(
        f"/desk/visits/{visit.id}/link/revoke",
        {"reason": "Phone lost.\r\nPatient called."},
        page_url=f"/desk/participants/{visit.participant_id}",
    )
    assert response.status_code == 303


@pytest.mark.parametrize("big", [2**31, 2**63, 9223372036854775808, 10**30])
def test_ids_beyond_32_bits_are_not_found(desk: StaffBrowser, big: int) -> None:
    assert desk.get(f"/desk/participants/{big}").status_code == 404
    assert desk.get(f"/monitor/records/{big}/pdf").status_code in (404, 405)
    response = desk.post(f"/desk/visits/{big}/link", page_url="/desk/participants")
    assert response.status_code == 404


def test_the_largest_32_bit_id_is_simply_unknown(desk: StaffBrowser) -> None:
    assert desk.get(f"/desk/participants/{2**31 - 1}").status_code == 404


@pytest.mark.parametrize("nxt", ["/desk/%0d%0aX:1", "/desk/%0aSet-Cookie:x=1", "/desk/%00"])
def test_a_line_break_in_next_is_refused_before_any_session_is_made(
    client: FlaskClient, coordinator: StaffUser, nxt: str
) -> None:
    page = client.get("/staff/login")
    before = state()
    response = client.post(
        f"/staff/login?next={nxt}",
        data={"csrf_token": csrf_of(page), "username": "coord-a", "password": "x"},
    )
    assert_refused(response)
    assert state() == before


def test_a_line_break_in_the_language_forms_next_is_dropped(desk: StaffBrowser) -> None:
    response = desk.post(
        "/staff/account/language", {"language": "en", "next": "/desk/\r\nX-Evil: 1"}
    )
    assert response.status_code == 303
    assert "\n" not in response.headers["Location"] and "X-Evil" not in str(response.headers)


@pytest.mark.parametrize("field", ["username", "password", "csrf_token"])
def test_a_file_in_place_of_a_sign_in_field_is_refused(
    client: FlaskClient, coordinator: StaffUser, field: str
) -> None:
    page = client.get("/staff/login")
    data: dict[str, object] = {
        "csrf_token": csrf_of(page),
        "username": "coord-a",
        "password": "x",
    }
    data[field] = (io.BytesIO(b"coord-a"), "name.txt")
    before = state()
    response = client.post("/staff/login", data=data, content_type="multipart/form-data")
    assert_refused(response)
    assert state() == before


def test_a_file_in_place_of_a_desk_field_is_refused(desk: StaffBrowser) -> None:
    visit = visit_of(make_participant("PRIME-001"))
    issue_token(visit.participant)
    csrf = desk.csrf(f"/desk/participants/{visit.participant_id}")
    before = state()
    response = desk.client.post(
        f"/desk/visits/{visit.id}/link/revoke",
        data={"csrf_token": csrf, "reason": (io.BytesIO(b"x" * 50), "reason.txt")},
        content_type="multipart/form-data",
    )
    assert_refused(response)
    assert state() == before


@pytest.mark.parametrize("start_token", ["é" * 64, "令牌", "\u2028", "ab" * 5000])
def test_an_odd_start_token_is_refused_cleanly(client: FlaskClient, start_token: str) -> None:
    token = issue_token(make_participant())
    before = state()
    response = client.post(f"/s/{token}", data={"start_token": start_token})
    assert 400 <= response.status_code < 500
    assert state() == before


def test_a_nul_in_a_link_token_is_refused(client: FlaskClient) -> None:
    token = issue_token(make_participant())
    assert_refused(client.get(f"/s/{token}%00"))
    assert client.get(f"/s/{token}").status_code == 200


@pytest.mark.parametrize("field", ["lap_times", "pauses"])
@pytest.mark.parametrize("depth", [900, 100_000])
def test_deeply_nested_json_from_the_walk_timer_is_refused(
    client: FlaskClient, field: str, depth: int
) -> None:
    from tests.patient.test_sixmwt_flow import _d7_walker

    walker = _d7_walker(client)
    before = state()
    response = walker.timer(**{field: "[" * depth + "]" * depth})
    assert response.status_code == 400
    assert json.loads(response.get_data(as_text=True)) == {"ok": False, "invalid": True}
    assert state() == before


def test_a_body_that_cannot_be_read_is_refused(client: FlaskClient) -> None:
    class Broken(io.RawIOBase):
        """What a WSGI server's reader does with a malformed chunked body: it raises."""

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: object) -> int:
            raise OSError("chunk missing its terminator")

    response = client.post(
        "/staff/login",
        content_type="application/x-www-form-urlencoded",
        environ_overrides={"wsgi.input": io.BufferedReader(Broken()), "CONTENT_LENGTH": "64"},
    )
    assert_refused(response)


def test_patients_get_the_refusal_in_both_languages(client: FlaskClient) -> None:
    patient = Patient(client, issue_token(make_participant()))
    patient.start()
    response = client.post("/visit/mlhfq/q/1", data={"answer": "3\x00", "action": "next"})
    assert_refused(response)
