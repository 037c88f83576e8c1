"""Hypothesis against the forms and query strings of patients and staff: any text (control
characters, other scripts, huge numbers, odd keys) gives no 5xx, and a refusal changes nothing.
A small profile runs in `make test`; `make test-soak` runs thousands of examples."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.test import TestResponse

from pro_app.models import Role
from pro_app.web.ratelimits import limiter_of
from tests.actions import Patient, StaffBrowser, csrf_of
from tests.factories import issue_token, make_participant, make_site, make_staff, visit_of
from tests.security.conftest import state

ODD = [
    "\x00",
    "a\x00b",
    "\r\n",
    "\x1b[31m",
    "9223372036854775808",
    "-1",
    "1e309",
    "NaN",
    "[[[[[[[[[[]]]]]]]]]]",
    '{"a": [1, {"b": null}]}',
    "张三",
    "<script>alert(1)</script>",
    "=cmd|' /C calc'!A0",
    "../../etc/passwd",
    "",
    " ",
    "x" * 5000,
]
VALUE = st.one_of(
    st.text(max_size=40),
    st.sampled_from(ODD),
    st.integers(min_value=-(10**22), max_value=10**22).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
EXTRA = st.dictionaries(st.text(min_size=1, max_size=12), VALUE, max_size=2)


def fuzz(
    app: Flask,
    send: Callable[[dict[str, str]], TestResponse],
    fields: list[str],
    *,
    refusals_keep: bool = False,
) -> None:
    """Post (or get) `fields` filled by Hypothesis, plus stray keys; never a 5xx, and a refusal
    leaves the audit trail and the sessions as they were (unless `refusals_keep`: sign-in counts
    a failure, a worksheet screen keeps its other fields)."""

    @given(st.fixed_dictionaries({name: VALUE for name in fields}), EXTRA)
    def example(data: dict[str, str], extra: dict[str, str]) -> None:
        limiter_of(app).reset()
        before = state()
        response = send({**extra, **data})
        assert response.status_code < 500, (data, extra, response.status_code)
        if response.status_code >= 400 and not refusals_keep:
            assert state() == before, (data, extra)

    example()


def _staff(client: FlaskClient, role: Role) -> StaffBrowser:
    make_staff("fuzz-a", role=role, sites=[make_site("SEH")])
    browser = StaffBrowser(client)
    assert browser.sign_in("fuzz-a").status_code == 303
    return browser


def test_sign_in_form_and_next(app_ctx: Flask, client: FlaskClient) -> None:
    make_staff("coord-a")
    csrf = csrf_of(client.get("/staff/login"))

    def send(data: dict[str, str]) -> TestResponse:
        nxt = data.pop("next", "")
        return client.post(
            "/staff/login", query_string={"next": nxt}, data={"csrf_token": csrf, **data}
        )

    fuzz(app_ctx, send, ["username", "password", "next"], refusals_keep=True)


def test_patient_answer_and_walk_timer(app_ctx: Flask, client: FlaskClient) -> None:
    patient = Patient(client, issue_token(make_participant()))
    patient.start()
    csrf = csrf_of(client.get("/visit/mlhfq/q/1"))

    def answer(data: dict[str, str]) -> TestResponse:
        return client.post("/visit/mlhfq/q/1", data={"csrf_token": csrf, **data})

    fuzz(app_ctx, answer, ["answer", "action", "lang"])

    def timer(data: dict[str, str]) -> TestResponse:
        return client.post(
            "/visit/sixmwt/timer",
            data={"csrf_token": csrf, **data},
            headers={"Accept": "application/json"},
        )

    timer_fields = ["run_id", "laps", "lap_times", "pauses", "elapsed_s", "ended_early"]
    fuzz(app_ctx, timer, [*timer_fields, "partial_lap_m", "walk_version", "replace"])

    def part(data: dict[str, str]) -> TestResponse:
        return client.post("/visit/sixmwt/part/before", data={"csrf_token": csrf, **data})

    # A worksheet screen keeps the fields it could save while another is refused (by design:
    # docs/architecture.md, "One unit of work per request"), so only "no 5xx" holds here.
    part_fields = ["test_date", "start_time", "lap_length_m", "supplemental_o2", "action"]
    fuzz(app_ctx, part, part_fields, refusals_keep=True)


def test_desk_forms_and_search(app_ctx: Flask, client: FlaskClient) -> None:
    desk = _staff(client, Role.COORDINATOR)
    visit = visit_of(make_participant("PRIME-001"))
    issue_token(visit.participant)
    csrf = desk.csrf("/desk/participants")

    def search(data: dict[str, str]) -> TestResponse:
        return client.get("/desk/participants", query_string=data)

    fuzz(app_ctx, search, ["q", "status", "page", "lang"])

    def enrol(data: dict[str, str]) -> TestResponse:
        return client.post("/desk/participants/new", data={"csrf_token": csrf, **data})

    enrol_fields = ["site_id", "study_id", "sex", "birth_year", "height_cm"]
    fuzz(app_ctx, enrol, [*enrol_fields, "preferred_language", "day0"])

    def revoke(data: dict[str, str]) -> TestResponse:
        return client.post(
            f"/desk/visits/{visit.id}/link/revoke", data={"csrf_token": csrf, **data}
        )

    fuzz(app_ctx, revoke, ["reason"])


def test_admin_forms(app_ctx: Flask, client: FlaskClient) -> None:
    admin = _staff(client, Role.ADMIN)
    csrf = admin.csrf("/admin/")

    def create(data: dict[str, str]) -> TestResponse:
        return client.post("/admin/staff/new", data={"csrf_token": csrf, **data})

    fuzz(app_ctx, create, ["username", "role", "sites", "language", "active"])

    def site(data: dict[str, str]) -> TestResponse:
        return client.post("/admin/sites/1", data={"csrf_token": csrf, **data})

    fuzz(app_ctx, site, ["name_zh", "name_en", "timezone", "study_id_pattern", "study_id_example"])


@pytest.mark.parametrize("path", ["/staff/login", "/visit", "/s/unknown-token", "/monitor/"])
def test_query_strings_anywhere(app_ctx: Flask, client: FlaskClient, path: str) -> None:
    def get(data: dict[str, str]) -> TestResponse:
        return client.get(path, query_string=data)

    fuzz(app_ctx, get, ["lang", "next", "q"])
