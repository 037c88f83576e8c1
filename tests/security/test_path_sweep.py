"""Every URL rule with odd path values (huge integers, NUL, CR/LF, `..`, Chinese text, quotes,
a long string), by each kind of visitor, GET and POST: never a 5xx, and nothing recorded."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from pro_app.extensions import db
from pro_app.models import AuditEvent, Role
from pro_app.web.ratelimits import limiter_of
from tests.actions import Patient, StaffBrowser, csrf_of
from tests.factories import issue_token, make_participant, make_site, make_staff

ODD = [
    "2147483648",
    "9223372036854775808",
    "99999999999999999999999999",
    "-1",
    "0",
    "%00",
    "a%00b",
    "%0d%0aX-Evil:%201",
    "..",
    "%2e%2e",
    "..%2f..%2fetc%2fpasswd",
    "%E5%BC%A0%E4%B8%89",
    "%27%22%3E%3Cscript%3E",
    "x" * 300,
    "%ff%fe",
    "1.5",
]
_ARGUMENT = re.compile(r"<(?:[^:>]+:)?([^>]+)>")
AREAS = {
    "anonymous": ("",),
    "patient": ("patient.",),
    "coordinator": ("coordinator.", "account."),
    "monitor": ("monitor.", "account."),
    "admin": ("admin.", "account."),
}


def _events() -> int:
    return int(db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def _visitor(kind: str, client: FlaskClient) -> str:
    """Sign in (or start a visit) as `kind`; a CSRF token of this browser's session."""
    site = make_site("SEH")
    if kind == "patient":
        Patient(client, issue_token(make_participant("PRIME-901"))).start()
        return ""
    if kind != "anonymous":
        role = {"coordinator": Role.COORDINATOR, "monitor": Role.MONITOR, "admin": Role.ADMIN}
        make_staff(f"{kind}-a", role=role[kind], sites=[site])
        db.session.commit()
        assert StaffBrowser(client).sign_in(f"{kind}-a").status_code == 303
    return csrf_of(client.get("/staff/login" if kind == "anonymous" else "/staff/account"))


@pytest.mark.parametrize("kind", list(AREAS))
def test_odd_path_values_never_fail_and_change_nothing(
    app_ctx: Flask, client: FlaskClient, kind: str
) -> None:
    csrf = _visitor(kind, client)
    before = _events()
    failures = []
    for rule in app_ctx.url_map.iter_rules():
        names = _ARGUMENT.findall(rule.rule)
        if not names or not rule.endpoint.startswith(AREAS[kind]):
            continue
        for value in ODD:
            url = _ARGUMENT.sub(value, rule.rule)
            for method in sorted((rule.methods or set()) & {"GET", "POST"}):
                limiter_of(app_ctx).reset()
                if method == "GET":
                    response = client.get(url)
                else:
                    response = client.post(url, data={"csrf_token": csrf} if csrf else {})
                if response.status_code >= 500:
                    failures.append(f"{method} {url} -> {response.status_code}")
    assert failures == []
    assert _events() == before, "an odd URL recorded something"
