"""Admin routes: staff accounts (create, role, sites, enable, reset) and site settings."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms.fields.choices import SelectChoice

from pro_app import clock
from pro_app.admin import bp
from pro_app.admin.forms import NewStaffForm, SiteForm, StaffForm
from pro_app.errors import SelfLockout
from pro_app.models import Role, Site, StaffUser
from pro_app.services import accounts, roster
from pro_app.services import sites as site_service
from pro_app.web.access import current_staff
from pro_app.web.forms import attempt, form_page
from pro_app.web.messages.staff import STAFF

Page = str | tuple[str, int] | WerkzeugResponse


def _me() -> StaffUser:
    staff = current_staff()
    assert staff is not None  # the blueprint guard let only admins through
    return staff


def _site_choices(admin: StaffUser) -> list[Site]:
    return roster.sites_of(admin.site_ids)


def _chosen_sites(admin: StaffUser, ids: list[int] | None) -> list[Site]:
    """Only the admin's own sites can be given; anything else in the form is ignored."""
    own = {site.id: site for site in _site_choices(admin)}
    return [own[site_id] for site_id in ids or [] if site_id in own]


@bp.get("/")
def staff_list() -> Page:
    admin = _me()
    return render_template(
        "admin/staff_list.html",
        staff=accounts.manageable_staff(admin.site_ids),
        now=clock.utcnow(),
    )


@bp.route("/staff/new", methods=["GET", "POST"])
def create_staff() -> Page:
    admin = _me()
    form = NewStaffForm()
    sites = _site_choices(admin)
    form.sites.choices = [SelectChoice(site.id, site.name(str(get_locale()))) for site in sites]
    if request.method == "GET":
        form.role.data = Role.COORDINATOR.value
        form.active.data = True
        if len(sites) == 1:
            form.sites.data = [sites[0].id]
    password = accounts.temporary_password()
    if form.validate_on_submit() and (
        done := attempt(
            form,
            lambda: accounts.create_staff(
                username=form.username.data or "",
                role=Role(form.role.data),
                sites=_chosen_sites(admin, form.sites.data),
                password=password,
                language=form.language.data or "zh_Hans",
                actor=admin.actor,
            ),
        )
    ):
        return _temporary_password_page(done.value, password, created=True)
    return form_page("admin/staff_new.html", form)


def _temporary_password_page(staff: StaffUser, password: str, *, created: bool) -> tuple[str, int]:
    """Shown once and never stored in plain: hand it over in person."""
    return render_template(
        "admin/temporary_password.html", staff=staff, password=password, created=created
    ), 200


@bp.route("/staff/<int:staff_id>", methods=["GET", "POST"])
def edit_staff(staff_id: int) -> Page:
    admin = _me()
    staff = accounts.staff_for(admin.site_ids, staff_id)
    form = StaffForm()
    form.sites.choices = [
        SelectChoice(site.id, site.name(str(get_locale()))) for site in _site_choices(admin)
    ]
    if request.method == "GET":
        form.role.data = staff.role.value
        form.sites.data = sorted(staff.site_ids)
        form.active.data = staff.is_active
    if form.validate_on_submit():
        try:
            saved = attempt(
                form,
                lambda: accounts.update_staff(
                    staff,
                    role=Role(form.role.data),
                    sites=_chosen_sites(admin, form.sites.data),
                    active=bool(form.active.data),
                    actor=admin.actor,
                    by=admin,
                ),
            )
        except SelfLockout as refusal:
            saved = None
            form.form_errors.append(STAFF.text(refusal.code))
        if saved:
            flash(_("The account %(username)s is saved.", username=staff.username), "ok")
            return redirect(url_for("admin.staff_list"), 303)
    return form_page("admin/staff_edit.html", form, staff=staff)


@bp.post("/staff/<int:staff_id>/reset-password")
def reset_password(staff_id: int) -> Page:
    admin = _me()
    staff = accounts.staff_for(admin.site_ids, staff_id)
    password = accounts.temporary_password()
    accounts.reset_password(staff, password, actor=admin.actor)
    return _temporary_password_page(staff, password, created=False)


@bp.post("/staff/<int:staff_id>/reset-two-step")
def reset_totp(staff_id: int) -> Page:
    return _account_action(
        staff_id, accounts.reset_totp, _l("Two-step sign-in of %(username)s is reset.")
    )


@bp.post("/staff/<int:staff_id>/unlock")
def unlock(staff_id: int) -> Page:
    return _account_action(staff_id, accounts.unlock, _l("%(username)s is unlocked."))


def _account_action(staff_id: int, action: Callable[..., None], done: LazyString) -> Page:
    """A one-button change to an account (no form fields): do it, say so, back to the account."""
    admin = _me()
    staff = accounts.staff_for(admin.site_ids, staff_id)
    action(staff, actor=admin.actor)
    flash(str(done) % {"username": staff.username}, "ok")
    return redirect(url_for("admin.edit_staff", staff_id=staff.id), 303)


@bp.get("/sites")
def site_list() -> Page:
    return render_template("admin/sites.html", sites=_site_choices(_me()))


@bp.route("/sites/<int:site_id>", methods=["GET", "POST"])
def edit_site(site_id: int) -> Page:
    admin = _me()
    site = roster.site_for(admin.site_ids, site_id)
    form = SiteForm(obj=site)
    if form.validate_on_submit() and attempt(
        form,
        lambda: site_service.update_site(
            site,
            actor=admin.actor,
            **{key: getattr(form, key).data for key in site_service.EDITABLE},
        ),
    ):
        flash(_("Site %(code)s is saved.", code=site.code), "ok")
        return redirect(url_for("admin.site_list"), 303)
    return form_page("admin/site_edit.html", form, site=site)
