"""Sign-in, lockout, idle expiry, sign-out, forced password change, TOTP, language memory."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from pro_app import clock
from pro_app.extensions import db
from pro_app.models import AuditEvent, StaffSession, StaffUser
from pro_app.services import signin
from tests.actions import StaffBrowser, csrf_of
from tests.factories import make_staff

EN = {"Accept-Language": "en"}


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _staff(username: str) -> StaffUser:
    staff = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
    assert staff is not None
    db.session.refresh(staff)
    return staff


def test_sign_in_lands_on_the_role_home_and_sign_out_ends_the_session(client: FlaskClient) -> None:
    make_staff("coord-a")
    db.session.commit()
    browser = StaffBrowser(client)
    response = browser.sign_in("coord-a")
    assert response.status_code == 303 and response.location.endswith("/desk/")
    assert browser.get("/desk/").status_code == 200
    copied_cookie = client.get_cookie("session")
    assert copied_cookie is not None
    out = browser.sign_out()
    assert out.status_code == 303 and "/staff/login" in out.location
    assert browser.get("/desk/").status_code == 302
    # A cookie copied before sign-out is worthless: the session ended on the server.
    client.set_cookie("session", copied_cookie.value)
    assert browser.get("/desk/").status_code == 302
    assert (
        _actions()[-2:] == ["staff.signed_in", "staff.signed_out"]
        or "staff.signed_out" in _actions()
    )
    ended = db.session.scalars(select(StaffSession)).one()
    assert ended.end_reason == "signed_out"


def test_anonymous_is_sent_to_sign_in_and_back_afterwards(client: FlaskClient) -> None:
    make_staff("coord-a")
    db.session.commit()
    first = client.get("/desk/participants?status=all")
    assert first.status_code == 302
    assert first.location.startswith("/staff/login?next=")
    page = client.get(first.location)
    response = client.post(
        first.location,
        data={
            "csrf_token": csrf_of(page),
            "username": "coord-a",
            "password": "blue-kettle-river-42",
        },
    )
    assert response.status_code == 303 and response.location == "/desk/participants?status=all"


def test_next_cannot_send_anyone_to_another_site(client: FlaskClient) -> None:
    make_staff("coord-a")
    db.session.commit()
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        page = client.get("/staff/login", query_string={"next": target})
        response = client.post(
            "/staff/login",
            query_string={"next": target},
            data={
                "csrf_token": csrf_of(page),
                "username": "coord-a",
                "password": "blue-kettle-river-42",
            },
        )
        assert response.location == "/desk/", target
        StaffBrowser(client).sign_out()


def test_wrong_password_and_unknown_user_get_the_same_answer(client: FlaskClient) -> None:
    make_staff("coord-a")
    db.session.commit()
    browser = StaffBrowser(client)
    for username, password in (("coord-a", "wrong-password-1"), ("nobody", "wrong-password-1")):
        page = client.get("/staff/login", headers=EN)
        response = client.post(
            "/staff/login",
            headers=EN,
            data={"csrf_token": csrf_of(page), "username": username, "password": password},
        )
        assert response.status_code == 400
        assert "Wrong username or password." in response.get_data(as_text=True)
    chinese = browser.sign_in("coord-a", "wrong-password-1")
    assert "用户名或密码错误" in chinese.get_data(as_text=True)
    causes = [e.details["cause"] for e in db.session.scalars(select(AuditEvent))]
    assert causes == ["bad_password", "unknown_user", "bad_password"]
    assert db.session.scalar(select(StaffSession.id)) is None


def test_empty_sign_in_form_says_what_is_missing(client: FlaskClient) -> None:
    page = client.get("/staff/login", headers=EN)
    response = client.post("/staff/login", headers=EN, data={"csrf_token": csrf_of(page)})
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Please enter your username." in text and "Please enter your password." in text
    assert 'aria-invalid="true"' in text


def test_five_failures_lock_the_account_for_15_minutes(client: FlaskClient) -> None:
    make_staff("coord-a")
    db.session.commit()
    browser = StaffBrowser(client)
    for _ in range(signin.MAX_FAILED_ATTEMPTS - 1):
        assert browser.sign_in("coord-a", "wrong-password-1").status_code == 400
    locked = browser.sign_in("coord-a", "wrong-password-1")
    assert "已暂停登录" in locked.get_data(as_text=True)
    assert "staff.locked" in _actions()
    # Even the right password is refused while locked.
    refused = browser.sign_in("coord-a")
    assert refused.status_code == 400 and "15" in refused.get_data(as_text=True)
    clock.advance(timedelta(minutes=14))
    assert browser.sign_in("coord-a").status_code == 400
    clock.advance(timedelta(minutes=1, seconds=1))
    assert browser.sign_in("coord-a").status_code == 303
    staff = _staff("coord-a")
    assert staff.failed_logins == 0 and staff.locked_until is None


def test_a_disabled_account_cannot_sign_in(client: FlaskClient) -> None:
    make_staff("coord-a", active=False)
    db.session.commit()
    response = StaffBrowser(client).sign_in("coord-a")
    assert response.status_code == 400
    assert db.session.scalars(select(AuditEvent)).one().details["cause"] == "disabled"


def test_session_ends_after_15_idle_minutes(client: FlaskClient) -> None:
    make_staff("coord-a")
    db.session.commit()
    browser = StaffBrowser(client)
    browser.sign_in("coord-a")
    for _ in range(3):  # activity keeps the session alive past 15 minutes in all
        clock.advance(timedelta(minutes=14, seconds=59))
        assert browser.get("/desk/").status_code == 200
    clock.advance(timedelta(minutes=15, seconds=1))
    expired = browser.get("/desk/participants")
    assert expired.status_code == 302 and "expired=1" in expired.location
    page = browser.get(expired.location).get_data(as_text=True)
    assert "由于一段时间没有操作，您已被退出登录" in page
    assert _actions()[-1] == "staff.session_expired"
    row = db.session.scalars(select(StaffSession)).one()
    assert row.end_reason == "idle"
    # Signing in again works, with a new session.
    assert browser.sign_in("coord-a").status_code == 303


def test_a_session_ends_after_a_working_day_even_when_busy(client: FlaskClient) -> None:
    make_staff("coord-a")
    db.session.commit()
    browser = StaffBrowser(client)
    browser.sign_in("coord-a")
    for _ in range(signin.MAX_SESSION_HOURS * 6):
        clock.advance(timedelta(minutes=10))
        assert browser.get("/staff/account").status_code == 200
    clock.advance(timedelta(minutes=10))
    assert browser.get("/staff/account").status_code == 302
    assert db.session.scalars(select(StaffSession)).one().end_reason == "max_age"


def test_first_sign_in_forces_a_password_change(client: FlaskClient) -> None:
    make_staff("coord-a", must_change_password=True)
    db.session.commit()
    browser = StaffBrowser(client)
    signed_in = browser.sign_in("coord-a")
    assert browser.get(signed_in.location).location == "/staff/account/password"
    assert browser.get("/desk/participants").location == "/staff/account/password"
    form_url = "/staff/account/password"
    too_short = browser.post(
        form_url,
        {"current_password": "blue-kettle-river-42", "password": "short1", "confirm": "short1"},
        page_url=form_url,
    )
    assert too_short.status_code == 400
    assert "请至少使用12个字符" in too_short.get_data(as_text=True)
    mismatch = browser.post(
        form_url,
        {
            "current_password": "blue-kettle-river-42",
            "password": "a-long-new-secret",
            "confirm": "a-long-new-secret!",
        },
        page_url=form_url,
    )
    assert mismatch.status_code == 400
    wrong_current = browser.post(
        form_url,
        {
            "current_password": "not-it-at-all",
            "password": "a-long-new-secret",
            "confirm": "a-long-new-secret",
        },
        page_url=form_url,
    )
    assert wrong_current.status_code == 400 and "当前密码不正确" in wrong_current.get_data(
        as_text=True
    )
    same = browser.post(
        form_url,
        {
            "current_password": "blue-kettle-river-42",
            "password": "blue-kettle-river-42",
            "confirm": "blue-kettle-river-42",
        },
        page_url=form_url,
    )
    assert same.status_code == 400
    assert _staff("coord-a").must_change_password
    done = browser.post(
        form_url,
        {
            "current_password": "blue-kettle-river-42",
            "password": "a-long-new-secret",
            "confirm": "a-long-new-secret",
        },
        page_url=form_url,
    )
    assert done.status_code == 303
    assert browser.get("/desk/participants").status_code == 200
    assert not _staff("coord-a").must_change_password
    assert "staff.password_changed" in _actions()
    browser.sign_out()
    assert browser.sign_in("coord-a", "a-long-new-secret").status_code == 303


def _secret_from(page: str) -> str:
    """The key as the page shows it to be typed: in groups of four (32 letters in a row were hard
    to copy by eye), which authenticator apps take with or without the spaces."""
    match = re.search(r"<code>((?:[A-Z2-7]{4} ){7}[A-Z2-7]{4})</code>", page)
    assert match, "setup page shows no key in groups of four"
    return match.group(1).replace(" ", "")


def test_two_step_sign_in_set_up_used_and_not_replayable(app_ctx: Flask) -> None:
    make_staff("coord-a")
    db.session.commit()
    browser = StaffBrowser(app_ctx.test_client())
    browser.sign_in("coord-a")
    setup = browser.get("/staff/account/two-step").get_data(as_text=True)
    assert "<svg" in setup
    secret = _secret_from(setup)
    wrong = browser.post(
        "/staff/account/two-step", {"code": "000000"}, page_url="/staff/account/two-step"
    )
    assert wrong.status_code == 400 and _staff("coord-a").totp_secret is None
    code = pyotp.TOTP(secret).at(clock.utcnow())
    assert browser.post("/staff/account/two-step", {"code": code}).status_code == 303
    assert _staff("coord-a").totp_secret == secret
    assert "staff.totp_enabled" in _actions()
    browser.sign_out()

    clock.advance(timedelta(seconds=30))
    second = StaffBrowser(app_ctx.test_client())
    step_one = second.sign_in("coord-a")
    assert step_one.location == "/staff/login/code"
    assert second.get("/desk/").status_code == 302  # the password alone does not sign in
    code_page = second.client.get("/staff/login/code")
    bad = second.client.post(
        "/staff/login/code", data={"csrf_token": csrf_of(code_page), "code": "123456"}
    )
    assert bad.status_code == 400
    code = pyotp.TOTP(secret).at(clock.utcnow())
    good = second.client.post(
        "/staff/login/code", data={"csrf_token": csrf_of(code_page), "code": code}
    )
    assert good.status_code == 303 and good.location == "/desk/"
    signed_in = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "staff.signed_in")
        .order_by(AuditEvent.id.desc())
    ).first()
    assert signed_in is not None and signed_in.details["second_factor"] is True

    third = StaffBrowser(app_ctx.test_client())
    replay = third.sign_in("coord-a", code=code)
    assert replay.status_code == 400, "a code can be used only once"


def test_wrong_codes_count_towards_the_lockout(client: FlaskClient) -> None:
    secret = pyotp.random_base32()
    make_staff("coord-a", totp_secret=secret)
    db.session.commit()
    browser = StaffBrowser(client)
    for _ in range(signin.MAX_FAILED_ATTEMPTS):
        browser.sign_in("coord-a", code="000000")
    assert _staff("coord-a").locked_until is not None
    right = StaffBrowser(client).sign_in("coord-a", code=pyotp.TOTP(secret).at(clock.utcnow()))
    assert right.status_code == 400


def test_the_code_step_expires(client: FlaskClient) -> None:
    secret = pyotp.random_base32()
    make_staff("coord-a", totp_secret=secret)
    db.session.commit()
    StaffBrowser(client).sign_in("coord-a")
    clock.advance(timedelta(minutes=6))
    assert client.get("/staff/login/code").location == "/staff/login"


def test_language_choice_is_remembered_for_the_user(app_ctx: Flask) -> None:
    make_staff("coord-a", language="zh_Hans")
    db.session.commit()
    browser = StaffBrowser(app_ctx.test_client())
    browser.sign_in("coord-a")
    assert "到期看板" in browser.get("/desk/").get_data(as_text=True)
    switched = browser.post(
        "/staff/account/language", {"language": "en", "next": "/desk/participants"}
    )
    assert switched.location == "/desk/participants"
    assert "Participants" in browser.get("/desk/participants").get_data(as_text=True)
    assert _staff("coord-a").language == "en"
    assert "staff.language_changed" in _actions()
    # Another browser, another day: still English, whatever the browser prefers.
    other = StaffBrowser(app_ctx.test_client())
    other.sign_in("coord-a")
    page = other.get("/desk/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert 'lang="en"' in page and "Due board" in page


def test_audit_never_holds_a_password(client: FlaskClient) -> None:
    make_staff("coord-a")
    db.session.commit()
    browser = StaffBrowser(client)
    browser.sign_in("coord-a", "my-wrong-guess-77")
    browser.sign_in("coord-a")
    trail = " ".join(str(e.details) for e in db.session.scalars(select(AuditEvent)))
    assert "my-wrong-guess-77" not in trail and "blue-kettle-river-42" not in trail
