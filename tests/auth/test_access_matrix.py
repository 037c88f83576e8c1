"""Who gets into which endpoint: every route of the app (from app.url_map) against every kind of
visitor. A new route or a new area fails this test until someone decides who may use it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from pro_app.extensions import db
from pro_app.models import Participant, Response, Role
from pro_app.questionnaire.catalog import catalog
from pro_app.services import answering, review, sealing
from tests.actions import Patient, StaffBrowser
from tests.factories import issue_token, make_participant, make_site, make_staff, visit_of

VISITORS = ("anonymous", "patient", "coordinator", "monitor", "admin")
STAFF = {"coordinator", "monitor", "admin"}

# Each area (blueprint) and who may use it. A blueprint missing here fails the test.
AREAS: dict[str, set[str]] = {
    "patient": {"patient"},  # clean patient URLs: only a browser that started a visit link
    "account": STAFF,
    "coordinator": {"coordinator"},
    "monitor": {"monitor"},
    "admin": {"admin"},
}
# Endpoints open to everyone, and why.
PUBLIC = {
    "patient.landing": "the token in the URL is the credential",
    "patient.start": "the token in the URL is the credential",
    "auth.login": "how one signs in",
    "patient.home": "the site's address alone: fixed words and the site's phone, no data",
}
# Endpoints this matrix cannot judge by a single request; each has its own tests.
ELSEWHERE = {
    "static": "files, no data",
    "auth.second_factor": "needs a pending password step: tests/auth/test_signin.py",
    "auth.logout": "signs out whoever asks: tests/auth/test_signin.py",
    # The assessor's worksheet (the 6MWT log): only a coordinator in staff entry, never a
    # patient's link (403) nor anyone unbound (401).
    "patient.form_screen": "staff entry only: tests/patient/test_sixmwt_flow.py",
    "patient.walk_timer": "staff entry only: tests/patient/test_sixmwt_flow.py",
}


@dataclass
class World:
    clients: dict[str, FlaskClient]
    params: dict[str, object]


@pytest.fixture
def world(app_ctx: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    site = make_site("SEH")
    participant = make_participant("PRIME-001", site=site)
    make_staff("coord-a", Role.COORDINATOR, [site])
    make_staff("monitor-a", Role.MONITOR, [site])
    make_staff("admin-a", Role.ADMIN, [site])
    other = make_staff("coord-victim", Role.COORDINATOR, [site])
    token = issue_token(participant)
    sealed = _sealed_record(make_participant("PRIME-002", site=site))
    query = review.raise_query(
        sealed,
        field=None,
        text="A question",
        staff=make_staff("monitor-q", Role.MONITOR),
        fields=[],
    )
    db.session.commit()
    clients = {visitor: app_ctx.test_client() for visitor in VISITORS}
    Patient(clients["patient"], token).start()
    for role, username in (
        ("coordinator", "coord-a"),
        ("monitor", "monitor-a"),
        ("admin", "admin-a"),
    ):
        assert StaffBrowser(clients[role]).sign_in(username).status_code == 303
    # The matrix is about authorisation; CSRF has its own test (tests/test_csrf.py).
    monkeypatch.setitem(app_ctx.config, "WTF_CSRF_ENABLED", False)
    params = {
        "token": token,
        "instrument_id": "mlhfq",
        "number": 1,
        "participant_id": participant.id,
        "visit_id": participant.visits[0].id,
        "staff_id": other.id,
        "site_id": site.id,
        "site_code": site.code,
        "study_id": "PRIME-002",
        "response_id": sealed.id,
        "query_id": query.id,
    }
    yield World(clients=clients, params=params)


def _sealed_record(participant: Participant) -> Response:
    visit = visit_of(participant)
    mlhfq = catalog().instrument("mlhfq")
    for item_id in mlhfq.item_ids:
        answering.save_answer(visit, mlhfq, item_id, 1, language="en", actor="test")
    return sealing.submit(visit, mlhfq, catalog(), language="en", actor="test")


def _expected(endpoint: str) -> set[str]:
    if endpoint in PUBLIC:
        return set(VISITORS)
    area = endpoint.split(".", 1)[0]
    assert area in AREAS, f"new area '{area}': add it to AREAS with the visitors it admits"
    return AREAS[area]


# Endpoints that need other values than the world's defaults (the 6MWT is a form instrument).
PARAMS_FOR = {
    "patient.form_screen": {"instrument_id": "sixmwt", "screen_id": "before"},
    "patient.walk_timer": {"instrument_id": "sixmwt"},
    "monitor.export_download": {"fmt": "csv"},
}


def _url(app: Flask, rule: Rule, params: dict[str, object]) -> str:
    params = {**params, **PARAMS_FOR.get(rule.endpoint, {})}
    missing = rule.arguments - params.keys()
    assert not missing, f"{rule.endpoint}: give the matrix a value for {missing}"
    with app.test_request_context():
        return url_for(rule.endpoint, **{name: params[name] for name in rule.arguments})


def _got_in(response: TestResponse) -> bool:
    if response.status_code in (401, 403):
        return False
    if response.status_code in (301, 302, 303, 307, 308):
        return urlsplit(response.location).path != "/staff/login"
    return True


def test_every_endpoint_admits_exactly_who_it_should(world: World, app_ctx: Flask) -> None:
    rules = [rule for rule in app_ctx.url_map.iter_rules() if rule.endpoint not in ELSEWHERE]
    assert len(rules) > 30
    wrong = []
    for rule in sorted(rules, key=lambda r: r.endpoint):
        expected = _expected(rule.endpoint)
        url = _url(app_ctx, rule, world.params)
        method = "GET" if "GET" in (rule.methods or ()) else "POST"
        for visitor in VISITORS:
            response = world.clients[visitor].open(url, method=method)
            assert response.status_code < 500, f"{visitor} {method} {url}: {response.status_code}"
            admitted = _got_in(response)
            if admitted and visitor in expected:
                # Admitted with real ids: a 404 here would mean the matrix tested nothing.
                assert response.status_code != 404, f"{visitor} {method} {url}: 404"
            if admitted != (visitor in expected):
                wrong.append(f"{visitor:11} {method:4} {url} -> {response.status_code}")
    assert wrong == [], "\n" + "\n".join(wrong)


def test_the_matrix_covers_every_area_in_the_app(app_ctx: Flask) -> None:
    areas = {rule.endpoint.split(".", 1)[0] for rule in app_ctx.url_map.iter_rules()}
    assert areas - set(AREAS) - {"static", "auth"} == set()
    assert {"coordinator", "monitor", "admin", "account", "patient"} <= areas


def test_wrong_role_gets_a_clear_page_in_its_language(world: World) -> None:
    page = world.clients["monitor"].get("/desk/participants")
    assert page.status_code == 403
    assert "您的角色无权访问此页面" in page.get_data(as_text=True)


def test_monitor_can_sign_in_and_reach_its_account(world: World) -> None:
    home = world.clients["monitor"].get("/staff/")
    assert home.status_code == 302 and home.location == "/monitor/"
    page = world.clients["monitor"].get("/staff/account").get_data(as_text=True)
    assert "监查员" in page and "monitor-a" in page
