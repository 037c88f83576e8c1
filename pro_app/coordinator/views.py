"""Coordinator routes. Each reads a form, calls one service, commits, then redirects or renders.

Every participant and visit is looked up through the user's sites (`roster`), so an id from
another site is simply not found.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import segno
from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import force_locale, get_locale, ngettext
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import Field
from wtforms.fields.choices import SelectChoice

from pro_app import clock, formatting
from pro_app.coordinator import bp
from pro_app.coordinator.forms import (
    Day0Form,
    EnrolForm,
    ReasonForm,
    StaffEntryForm,
    WithdrawForm,
)
from pro_app.errors import (
    DomainError,
    InputRejected,
)
from pro_app.models import Participant, ParticipantStatus, Sex, Site, StaffUser, Visit
from pro_app.questionnaire.catalog import catalog
from pro_app.services import (
    audit,
    enrolment,
    links,
    progress,
    reasons,
    review,
    roster,
    staff_entry,
    trends,
)
from pro_app.web import labels, unit_of_work, visit_session
from pro_app.web.access import current_staff, settings
from pro_app.web.forms import attach, attempt, form_page
from pro_app.web.messages.staff import STAFF

Page = str | tuple[str, int] | WerkzeugResponse
# Events shown on the participant page; the audit page lists them all.
RECENT_EVENTS = 12


def _me() -> StaffUser:
    staff = current_staff()
    assert staff is not None  # the blueprint guard let only coordinators through
    return staff


def _grace() -> int:
    return settings().link_grace_days


def _locale() -> str:
    return str(get_locale())


@bp.context_processor
def _helpers() -> dict[str, object]:
    return {
        "labels": labels,
        "State": progress.State,
        "catalog": catalog(),
        "zone_name": formatting.zone_name,
        "site_today": clock.today_in,
    }


# --- the due board --------------------------------------------------------------------------


@bp.get("/")
def board() -> Page:
    staff = _me()
    sites = roster.sites_of(staff.site_ids)
    return render_template(
        "coordinator/board.html",
        board=progress.due_board(sites, catalog().schedule, _grace()),
        queries=review.pending(staff.site_ids),
        horizon=progress.HORIZON_DAYS,
        lookback=progress.MISSED_LOOKBACK_DAYS,
        sites=sites,
        visit_names={
            planned.code: planned.name(_locale()) for planned in catalog().schedule.visits
        },
    )


# --- participants ---------------------------------------------------------------------------


@bp.get("/participants")
def participants() -> Page:
    staff = _me()
    text = request.args.get("q", "")[:40]
    status_arg = request.args.get("status", "active")
    status = {s.value: s for s in ParticipantStatus}.get(status_arg)
    if status is None:
        status_arg = "all"
    try:
        page_number = int(request.args.get("page", "1"))
    except ValueError:
        page_number = 1
    page = roster.search(staff.site_ids, text=text, status=status, page=page_number)
    visits = roster.visits_of(page.items)
    by_visit = progress.progress_of(
        [visit for listed in visits.values() for visit in listed], catalog().schedule, _grace()
    )
    rows = []
    for participant in page.items:
        schedule_rows = [by_visit[visit.id] for visit in visits[participant.id]]
        rows.append(
            {
                "participant": participant,
                "next": progress.next_visit(schedule_rows),
                "submitted": sum(1 for r in schedule_rows if r.state is progress.State.SUBMITTED),
                "due": sum(1 for r in schedule_rows if r.state is not progress.State.NOTHING_DUE),
                "missed": sum(1 for r in schedule_rows if r.state is progress.State.MISSED),
            }
        )
    return render_template(
        "coordinator/participants.html",
        rows=rows,
        page=page,
        q=text,
        status=status_arg,
        sites=roster.sites_of(staff.site_ids),
    )


@bp.route("/participants/new", methods=["GET", "POST"])
def enrol() -> Page:
    staff = _me()
    sites = roster.sites_of(staff.site_ids)
    form = EnrolForm()
    form.site_id.choices = [SelectChoice(site.id, site.name(_locale())) for site in sites]
    if request.method == "GET" and sites:
        form.site_id.data = sites[0].id
    site = next((site for site in sites if site.id == form.site_id.data), None)
    closed: list[str] = []
    if (
        form.validate_on_submit()
        and site is not None
        and form.day0.data
        and not enrolment.enrolment_problems(
            site,
            study_id=_clean(form.study_id),
            birth_year=_clean(form.birth_year),
            height_cm=_clean(form.height_cm),
            day0=_clean(form.day0),
        )
    ):
        closed = _closed_already(site, form.day0.data)
        if closed and not form.confirm_past.data:
            form.form_errors.append(
                ngettext(
                    "With this Day 0, %(num)s visit window has already closed (%(visits)s): "
                    "it will be marked missed. Check the date, or confirm below.",
                    "With this Day 0, %(num)s visit windows have already closed (%(visits)s): "
                    "they will be marked missed. Check the date, or confirm below.",
                    len(closed),
                    visits=", ".join(closed),
                )
            )
            return form_page(
                "coordinator/enrol.html",
                form,
                sites=sites,
                example_site=site,
                closed=closed,
            )
    if form.validate_on_submit():
        if site is None:
            # With one site the field is hidden, so the message goes above the form.
            form.form_errors.append(_("Choose one of your sites."))
        elif done := attempt(
            form, lambda: _enrol(form, site, staff), example=site.study_id_example
        ):
            flash(_("%(study_id)s is enrolled.", study_id=done.value.study_id), "ok")
            return redirect(url_for("coordinator.participant", participant_id=done.value.id), 303)
    elif form.is_submitted() and site is not None:
        # Show every broken rule at once, not only the form's own checks.
        for problem in enrolment.enrolment_problems(
            site,
            study_id=_clean(form.study_id),
            birth_year=_clean(form.birth_year),
            height_cm=_clean(form.height_cm),
            day0=_clean(form.day0),
        ):
            attach(form, problem, example=site.study_id_example)
    example_site = site or (sites[0] if sites else None)
    return form_page("coordinator/enrol.html", form, sites=sites, example_site=example_site)


def _closed_already(site: Site, day0: date) -> list[str]:
    """The visits whose window (with the grace days) closed before today at the site."""
    today = clock.today_in(site.timezone)
    closed = []
    for planned in catalog().schedule.visits:
        _target, _start, end = planned.dates(day0)
        if end + timedelta(days=_grace()) < today:
            closed.append(planned.name(_locale()))
    return closed


def _enrol(form: EnrolForm, site: Site, staff: StaffUser) -> Participant:
    return enrolment.enrol(
        site=site,
        study_id=form.study_id.data or "",
        sex=Sex(form.sex.data),
        birth_year=int(form.birth_year.data or 0),
        height_cm=int(form.height_cm.data or 0),
        preferred_language=form.preferred_language.data or "",
        day0=form.day0.data or date.min,
        schedule=catalog().schedule,
        actor=staff.actor,
    )


def _clean(field: Field) -> Any:
    """A field's value if it passed the form's own checks, else None (not checked again)."""
    return None if field.errors or field.data in (None, "") else field.data


def _participant_page(
    participant: Participant,
    *,
    status: int = 200,
    problem: dict[str, Any] | None = None,
) -> tuple[str, int]:
    """The participant page; `problem` re-opens one visit's action with its error beside it."""
    # The newest few events; the audit page has them all, with filters and a CSV download.
    events, events_total = audit.history(participant.id, _me().site_ids, per_page=RECENT_EVENTS)
    return render_template(
        "coordinator/participant.html",
        participant=participant,
        trends=trends.participant_trends(participant, catalog()),
        schedule=progress.participant_progress(participant, catalog().schedule, _grace()),
        events=events,
        events_total=events_total,
        problem=problem or {},
        grace=_grace(),
    ), status


@bp.get("/participants/<int:participant_id>")
def participant(participant_id: int) -> Page:
    return _participant_page(roster.participant_for(_me().site_ids, participant_id))


@bp.route("/participants/<int:participant_id>/withdraw", methods=["GET", "POST"])
def withdraw(participant_id: int) -> Page:
    staff = _me()
    participant = roster.participant_for(staff.site_ids, participant_id)
    if participant.status is ParticipantStatus.WITHDRAWN:
        flash(_("%(study_id)s has already withdrawn.", study_id=participant.study_id), "error")
        return redirect(url_for("coordinator.participant", participant_id=participant.id))
    form = WithdrawForm()
    if form.validate_on_submit() and attempt(
        form, lambda: enrolment.withdraw(participant, reason=form.reason.data or "", staff=staff)
    ):
        flash(_("%(study_id)s is withdrawn.", study_id=participant.study_id), "ok")
        return redirect(url_for("coordinator.participant", participant_id=participant.id), 303)
    active_links = len(links.active_links(participant))
    return form_page(
        "coordinator/withdraw.html", form, participant=participant, active_links=active_links
    )


@bp.route("/participants/<int:participant_id>/day0", methods=["GET", "POST"])
def correct_day0(participant_id: int) -> Page:
    staff = _me()
    participant = roster.participant_for(staff.site_ids, participant_id)
    form = Day0Form()
    if request.method == "GET":
        form.day0.data = participant.day0
    if form.validate_on_submit() and attempt(
        form,
        lambda: enrolment.correct_day0(
            participant,
            form.day0.data or participant.day0,
            reason=form.reason.data or "",
            schedule=catalog().schedule,
            actor=staff.actor,
        ),
    ):
        flash(_("Day 0 is corrected; the schedule is recomputed."), "ok")
        return redirect(url_for("coordinator.participant", participant_id=participant.id), 303)
    return form_page(
        "coordinator/day0.html",
        form,
        participant=participant,
        plan=enrolment.plan_day0_correction(participant),
    )


# --- visit links ----------------------------------------------------------------------------


def _reason_problem(form: ReasonForm | StaffEntryForm) -> InputRejected:
    """Why the form's reason was refused, in the words the services use."""
    too_long = len(form.reason.data or "") > reasons.MAX_LENGTH
    if too_long:
        return InputRejected("reason", "too_long", max=reasons.MAX_LENGTH)
    return InputRejected("reason", "required", min=reasons.MIN_LENGTH)


def _refused(visit: Visit, action: str, error: DomainError) -> tuple[str, int]:
    """The participant page again, as it was before the request, with the refused action open and
    its reason beside it."""
    unit_of_work.discard()
    problem = {
        "visit_id": visit.id,
        "action": action,
        "field": error.field if isinstance(error, InputRejected) else None,
        "message": STAFF.text(error.code, error.params),
        "reason": request.form.get("reason", ""),
    }
    return _participant_page(visit.participant, status=error.status, problem=problem)


@bp.post("/visits/<int:visit_id>/link")
def issue_link(visit_id: int) -> Page:
    staff = _me()
    visit = roster.visit_for(staff.site_ids, visit_id)
    try:
        _link, token = links.issue_first(
            visit, actor=staff.actor, staff=staff, schedule=catalog().schedule, grace_days=_grace()
        )
    except DomainError as exc:
        return _refused(visit, "issue", exc)
    return _show_once(visit, token, reissued=False)


@bp.post("/visits/<int:visit_id>/link/reissue")
def reissue_link(visit_id: int) -> Page:
    staff = _me()
    visit = roster.visit_for(staff.site_ids, visit_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        return _refused(visit, "reissue", _reason_problem(form))
    try:
        _link, token = links.reissue(
            visit,
            actor=staff.actor,
            staff=staff,
            reason=form.reason.data or "",
            schedule=catalog().schedule,
            grace_days=_grace(),
        )
    except DomainError as exc:
        return _refused(visit, "reissue", exc)
    return _show_once(visit, token, reissued=True)


_ISSUED = "issued_link"


def _show_once(visit: Visit, token: str, *, reissued: bool) -> Page:
    """Post/redirect/get: the new link waits in this browser's session for one GET, so a reload
    of the page shown after "issue" or "reissue" shows the visit and never issues again."""
    session[_ISSUED] = {"visit_id": visit.id, "token": token, "reissued": reissued}
    return redirect(url_for("coordinator.link_issued", visit_id=visit.id), 303)


@bp.get("/visits/<int:visit_id>/link/new")
def link_issued(visit_id: int) -> Page:
    staff = _me()
    visit = roster.visit_for(staff.site_ids, visit_id)
    waiting = session.pop(_ISSUED, None)
    if not isinstance(waiting, dict) or waiting.get("visit_id") != visit.id:
        flash(_("The link was shown once and is not kept. Reissue it if it was lost."), "ok")
        return redirect(url_for("coordinator.participant", participant_id=visit.participant_id))
    return _issued_page(visit, str(waiting["token"]), reissued=bool(waiting.get("reissued")))


@bp.post("/visits/<int:visit_id>/link/revoke")
def revoke_link(visit_id: int) -> Page:
    staff = _me()
    visit = roster.visit_for(staff.site_ids, visit_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        return _refused(visit, "revoke", _reason_problem(form))
    try:
        links.revoke_active(visit, actor=staff.actor, staff=staff, reason=form.reason.data or "")
    except DomainError as exc:
        return _refused(visit, "revoke", exc)
    flash(_("The link is revoked. It no longer opens the questionnaire."), "ok")
    return redirect(url_for("coordinator.participant", participant_id=visit.participant_id), 303)


def link_url(token: str) -> str:
    return f"{settings().base_url}/s/{token}"


def _issued_page(visit: Visit, token: str, *, reissued: bool) -> tuple[str, int]:
    """Shown once: the only time the link exists outside the patient's hands (never cached)."""
    url = link_url(token)
    qr = segno.make(url, error="m")
    participant = visit.participant
    planned = catalog().schedule.visit(visit.code)
    slip = []
    for language in ("zh_Hans", "en"):
        with force_locale(language):
            slip.append(
                {
                    "lang": "zh-Hans" if language == "zh_Hans" else "en",
                    "title": _("PRIME study: your questionnaire"),
                    "visit": planned.patient_name(language),
                    "window": _(
                        "Please fill in between %(start)s and %(end)s.",
                        start=formatting.day(visit.window_start, language),
                        end=formatting.day(visit.window_end, language),
                    ),
                    "scan": _("Scan the code with your phone camera or WeChat, or type the link."),
                    "keep": _("This link is for you only. Please do not share it."),
                    "contact": participant.site.contact_zh
                    if language == "zh_Hans"
                    else participant.site.contact_en,
                }
            )
    return render_template(
        "coordinator/link_issued.html",
        visit=visit,
        participant=participant,
        planned=planned,
        url=url,
        qr_screen=qr.svg_inline(scale=1, omitsize=True, title=_("QR code of the visit link")),
        slip=slip,
        reissued=reissued,
        not_yet_open=links.site_today(visit) < visit.window_start,
    ), 200


# --- staff entry ----------------------------------------------------------------------------


@bp.post("/visits/<int:visit_id>/staff-entry")
def start_staff_entry(visit_id: int) -> Page:
    staff = _me()
    visit = roster.visit_for(staff.site_ids, visit_id)
    form = StaffEntryForm()
    if not form.validate_on_submit():
        if form.language.errors and not form.reason.errors:
            return _refused(visit, "enter", InputRejected("language", "required"))
        return _refused(visit, "enter", _reason_problem(form))
    try:
        reason = staff_entry.begin(
            visit,
            staff=staff,
            reason=form.reason.data or "",
            language=form.language.data or "",
            schedule=catalog().schedule,
            grace_days=_grace(),
        )
    except DomainError as exc:
        return _refused(visit, "enter", exc)
    visit_session.bind_staff_entry(visit, staff, reason, form.language.data or "zh_Hans")
    return redirect(url_for("patient.visit"), 303)


@bp.post("/staff-entry/end")
def end_staff_entry() -> Page:
    staff = _me()
    visit_id = visit_session.staff_entry_visit_id()
    visit_session.end_staff_entry()
    if visit_id is None:
        return redirect(url_for("coordinator.board"), 303)
    visit = roster.visit_for(staff.site_ids, visit_id)
    staff_entry.end(visit, staff=staff)
    flash(_("Staff entry has ended."), "ok")
    return redirect(url_for("coordinator.participant", participant_id=visit.participant_id), 303)
