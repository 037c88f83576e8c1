"""Sign-in (password, then optional TOTP code), sign-out; failures are recorded, then shown."""

from __future__ import annotations

from datetime import datetime

from flask import redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from pro_app import clock
from pro_app.auth import bp
from pro_app.auth.forms import CodeForm, SignInForm
from pro_app.errors import AccountLocked, InvalidCredentials, InvalidSecondFactor
from pro_app.extensions import db
from pro_app.models import StaffUser
from pro_app.services import signin
from pro_app.web import unit_of_work
from pro_app.web.access import (
    begin_session,
    current_staff,
    current_staff_session,
    home_for,
    safe_next,
)
from pro_app.web.forms import has_errors
from pro_app.web.messages.staff import STAFF
from pro_app.web.ratelimits import account_limit, signin_limit

Page = str | tuple[str, int] | WerkzeugResponse
PENDING_KEY = "staff_pending"
# The code step must follow the password step promptly.
PENDING_SECONDS = 300


@bp.route("/login", methods=["GET", "POST"])
@signin_limit
@account_limit
def login() -> Page:
    staff = current_staff()
    if staff is not None:
        return redirect(home_for(staff))
    form = SignInForm()
    error = None
    # Decided before anything is written: a bad `next` is dropped, never an error half-way.
    next_url = safe_next(request.args.get("next"))
    if form.validate_on_submit():
        try:
            staff = _check_password(form.username.data or "", form.password.data or "")
        except (InvalidCredentials, AccountLocked) as refusal:
            unit_of_work.keep_changes()  # the failed attempt is part of the record
            error = STAFF.text(refusal.code, refusal.params)
        else:
            if staff.totp_secret:
                session.clear()
                session[PENDING_KEY] = {
                    "id": staff.id,
                    "at": clock.utcnow().isoformat(),
                    "next": next_url,
                }
                return redirect(url_for("auth.second_factor"), 303)
            begin_session(staff, second_factor=False)
            return redirect(next_url or home_for(staff), 303)
    failed = form.is_submitted() and (error is not None or has_errors(form))
    return render_template(
        "auth/login.html",
        form=form,
        error=error,
        expired=request.args.get("expired") == "1",
        signed_out=request.args.get("signed_out") == "1",
    ), (400 if failed else 200)


def client_address() -> str:
    """The client's address (right behind a proxy when PRO_PROXY_FIX is set)."""
    return request.remote_addr or "unknown"


def _check_password(username: str, password: str) -> StaffUser:
    """Count the attempt and commit that at once; check the password with no transaction open;
    then decide in the request's own transaction (services/signin.py)."""
    address = client_address()
    attempt = unit_of_work.in_own_transaction(lambda: signin.begin_attempt(username, address))
    verdict = signin.verify(attempt, password)
    return signin.finish_attempt(attempt, verdict)


def _pending_staff() -> tuple[StaffUser | None, str | None]:
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None, None
    try:
        started = datetime.fromisoformat(str(pending.get("at")))
    except ValueError:
        return None, None
    if (clock.utcnow() - started).total_seconds() > PENDING_SECONDS:
        return None, None
    staff_id = pending.get("id")
    staff = db.session.get(StaffUser, staff_id) if isinstance(staff_id, int) else None
    if staff is None or not staff.is_active or staff.totp_secret is None:
        return None, None
    return staff, safe_next(pending.get("next"))


@bp.route("/login/code", methods=["GET", "POST"])
@signin_limit
def second_factor() -> Page:
    staff, next_url = _pending_staff()
    if staff is None:
        session.pop(PENDING_KEY, None)
        return redirect(url_for("auth.login"))
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        try:
            signin.check_second_factor(staff, form.code.data or "", client_address())
        except InvalidSecondFactor as refusal:
            unit_of_work.keep_changes()
            error = STAFF.text(refusal.code)
        except AccountLocked as refusal:
            unit_of_work.keep_changes()
            session.pop(PENDING_KEY, None)
            error = STAFF.text(refusal.code, refusal.params)
        else:
            begin_session(staff, second_factor=True)
            return redirect(next_url or home_for(staff), 303)
    failed = form.is_submitted() and (error is not None or has_errors(form))
    return render_template("auth/code.html", form=form, error=error), (400 if failed else 200)


@bp.post("/logout")
def logout() -> Page:
    row = current_staff_session()
    if row is not None:
        signin.sign_out(row)
    session.clear()
    return redirect(url_for("auth.login", signed_out="1"), 303)
