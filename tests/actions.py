"""Helpers that act like a patient or a staff member on the test client (flaskr's AuthActions)."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

_START = re.compile(r'name="start_token" value="([0-9a-f]+)"')
_CSRF = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')


def csrf_of(page: TestResponse) -> str:
    match = _CSRF.search(page.get_data(as_text=True))
    assert match, "page has no CSRF token"
    return match.group(1)


class Patient:
    """One browser. A second device is a second Patient with its own client."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client = client
        self.token = token

    def open_link(self, **kwargs: str) -> TestResponse:
        return self.client.get(f"/s/{self.token}", query_string=kwargs)

    def start(self) -> TestResponse:
        landing = self.open_link()
        match = _START.search(landing.get_data(as_text=True))
        assert match, f"landing page has no Start form (status {landing.status_code})"
        return self.client.post(f"/s/{self.token}", data={"start_token": match.group(1)})

    def item_url(self, number: int, instrument: str = "mlhfq") -> str:
        return f"/visit/{instrument}/q/{number}"

    def answer(
        self,
        number: int,
        value: int | str | None,
        action: str = "next",
        instrument: str = "mlhfq",
        **extra: str,
    ) -> TestResponse:
        page = self.client.get(self.item_url(number, instrument), query_string=extra)
        data = {"csrf_token": csrf_of(page), "action": action, **extra}
        if value is not None:
            data["answer"] = str(value)
        return self.client.post(self.item_url(number, instrument), data=data)

    def answer_all(self, values: list[int | None], instrument: str = "mlhfq") -> None:
        for number, value in enumerate(values, 1):
            response = self.answer(number, value, "skip" if value is None else "next", instrument)
            assert response.status_code == 303, response.get_data(as_text=True)

    def submit(self, instrument: str = "mlhfq") -> TestResponse:
        page = self.client.get(f"/visit/{instrument}/submit")
        return self.client.post(f"/visit/{instrument}/submit", data={"csrf_token": csrf_of(page)})


class StaffBrowser:
    """A staff member's browser: signs in through the real forms, posts with real CSRF tokens."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def sign_in(
        self, username: str, password: str | None = None, code: str | None = None
    ) -> TestResponse:
        from tests.factories import STAFF_PASSWORD

        page = self.client.get("/staff/login")
        response = self.client.post(
            "/staff/login",
            data={
                "csrf_token": csrf_of(page),
                "username": username,
                "password": STAFF_PASSWORD if password is None else password,
            },
        )
        if code is not None and response.status_code == 303 and "/login/code" in response.location:
            form = self.client.get("/staff/login/code")
            response = self.client.post(
                "/staff/login/code", data={"csrf_token": csrf_of(form), "code": code}
            )
        return response

    def csrf(self, page_url: str = "/staff/account") -> str:
        return csrf_of(self.client.get(page_url))

    def get(self, url: str, **kwargs: object) -> TestResponse:
        return self.client.get(url, **kwargs)  # type: ignore[arg-type]

    def post(
        self, url: str, data: dict[str, str] | None = None, page_url: str = "/staff/account"
    ) -> TestResponse:
        """POST with a CSRF token taken from a page of the same session."""
        return self.client.post(url, data={"csrf_token": self.csrf(page_url), **(data or {})})

    def sign_out(self) -> TestResponse:
        return self.post("/staff/logout")
