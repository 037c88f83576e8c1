"""Account pages: where a user lands, their password, two-step sign-in and language."""

from __future__ import annotations

import segno
from flask import flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from pro_app.account import bp
from pro_app.account.forms import LanguageForm, PasswordChangeForm, TotpForm
from pro_app.errors import InvalidSecondFactor
from pro_app.models import StaffUser
from pro_app.services import accounts, roster
from pro_app.web import unit_of_work
from pro_app.web.access import current_staff, current_staff_session, home_for, safe_next
from pro_app.web.forms import attempt, form_page, has_errors
from pro_app.web.messages.staff import STAFF

Page = str | tuple[str, int] | WerkzeugResponse
PENDING_TOTP = "pending_totp_secret"


def _me() -> StaffUser:
    staff = current_staff()
    assert staff is not None  # the blueprint guard let only signed-in users through
    return staff


@bp.get("/")
def home() -> Page:
    return redirect(home_for(_me()))


@bp.get("/account")
def profile() -> Page:
    staff = _me()
    return render_template(
        "account/profile.html",
        staff=staff,
        sites=roster.sites_of(staff.site_ids),
        session_row=current_staff_session(),
        totp_off_form=TotpForm(),
    )


@bp.route("/account/password", methods=["GET", "POST"])
def change_password() -> Page:
    staff = _me()
    form = PasswordChangeForm()
    row = current_staff_session()
    if form.validate_on_submit() and attempt(
        form,
        lambda: accounts.change_own_password(
            staff,
            form.current_password.data or "",
            form.password.data or "",
            keep_session_id=row.id if row else None,
        ),
    ):
        flash(_("Your password has been changed."), "ok")
        return redirect(home_for(staff), 303)
    return form_page("account/password.html", form, forced=staff.must_change_password)


@bp.route("/account/two-step", methods=["GET", "POST"])
def two_step() -> Page:
    """Set up a TOTP authenticator: scan, then prove it works with one code."""
    staff = _me()
    if staff.totp_secret is not None:
        return redirect(url_for("account.profile"))
    secret = session.get(PENDING_TOTP)
    if not isinstance(secret, str):
        secret = accounts.new_totp_secret()
        session[PENDING_TOTP] = secret
    form = TotpForm()
    error = None
    if form.validate_on_submit():
        try:
            accounts.enable_totp(staff, secret, form.code.data or "")
        except InvalidSecondFactor:
            error = STAFF.text("totp.setup_code")
        else:
            session.pop(PENDING_TOTP, None)
            flash(_("Two-step sign-in is on."), "ok")
            return redirect(url_for("account.profile"), 303)
    uri = accounts.provisioning_uri(staff, secret)
    qr = segno.make(uri, error="m").svg_inline(scale=1, omitsize=True, title=_("QR code to scan"))
    failed = form.is_submitted() and (error is not None or has_errors(form))
    return render_template("account/two_step.html", form=form, error=error, qr=qr, secret=secret), (
        400 if failed else 200
    )


@bp.post("/account/two-step/off")
def two_step_off() -> Page:
    staff = _me()
    form = TotpForm()
    if form.validate_on_submit():
        try:
            accounts.disable_totp(staff, form.code.data or "")
        except InvalidSecondFactor:
            # Nothing changed: the refusal only shows as a message on the next page.
            unit_of_work.discard()
        else:
            flash(_("Two-step sign-in is off."), "ok")
            return redirect(url_for("account.profile"), 303)
    flash(STAFF.text("totp.still_on"), "error")
    return redirect(url_for("account.profile"), 303)


@bp.post("/account/language")
def language() -> Page:
    staff = _me()
    form = LanguageForm()
    target = safe_next(form.next.data) or home_for(staff)
    chosen = form.chosen() if form.validate_on_submit() else None
    if chosen is not None:
        accounts.set_language(staff, chosen)
    return redirect(target, 303)
