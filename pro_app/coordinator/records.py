"""The coordinator's side of a sealed record: read it, correct it, void it, answer a query on it;
and the audit trail of a participant or a site."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms.fields.choices import SelectChoice

from pro_app.coordinator import bp
from pro_app.coordinator.forms import CorrectionForm, QueryAnswerForm, VoidForm
from pro_app.errors import CorrectionRefused, InputRejected, RecordSuperseded
from pro_app.models import Response, StaffUser
from pro_app.questionnaire.catalog import catalog
from pro_app.questionnaire.kinds.base import EditField, RawValue
from pro_app.questionnaire.kinds.registry import kind_of
from pro_app.questionnaire.kinds.worksheet import confirm_token
from pro_app.services import corrections, review
from pro_app.web import audit_view, record_view
from pro_app.web.access import current_staff
from pro_app.web.forms import attach, form_page
from pro_app.web.messages.patient import finding_text
from pro_app.web.messages.staff import STAFF

Page = str | tuple[str, int] | WerkzeugResponse


def _me() -> StaffUser:
    staff = current_staff()
    assert staff is not None  # the blueprint guard let only coordinators through
    return staff


def _locale() -> str:
    return str(get_locale())


def _record(response_id: int) -> Response:
    return review.record_for(_me().site_ids, response_id)


def _to_record(record: Response) -> WerkzeugResponse:
    return redirect(url_for("coordinator.record", response_id=record.id), 303)


@bp.get("/records/<int:response_id>")
def record(response_id: int) -> Page:
    view = record_view.build(_record(response_id), catalog(), _locale())
    return render_template(
        "coordinator/record.html", view=view, answer_form=QueryAnswerForm(), nav="participants"
    )


# --- correct ---------------------------------------------------------------------------------


def _reasons(form: CorrectionForm | VoidForm, kind: str) -> None:
    reasons = getattr(catalog().change_reasons, kind)
    locale = _locale()
    form.reason_code.choices = [
        SelectChoice("", _("Choose…")),
        *(SelectChoice(reason.code, reason.label(locale)) for reason in reasons),
    ]


def _raw(fields: list[EditField], form: MultiDict[str, str]) -> dict[str, RawValue]:
    """The values the form showed (only those: a field missing from the post is not blanked)."""
    shown = set(form.getlist("shown"))
    raw: dict[str, RawValue] = {}
    for field in fields:
        if field.id not in shown:
            continue
        if field.input == "multi":
            raw[field.id] = form.getlist(field.id)
        elif field.input == "duration":
            raw[field.id] = (form.get(f"{field.id}_min", ""), form.get(f"{field.id}_sec", ""))
        else:
            raw[field.id] = form.get(field.id, "")
    return raw


@bp.route("/records/<int:response_id>/correct", methods=["GET", "POST"])
def correct(response_id: int) -> Page:
    staff = _me()
    record = _record(response_id)
    instrument = catalog().instrument(record.instrument_id)
    fields = list(kind_of(instrument).edit_fields(instrument, record.answers))
    form = CorrectionForm()
    _reasons(form, "correction")
    needs_code = corrections.needs_reason_code(record, catalog())
    problems: dict[str, str] = {}
    warnings: list[tuple[str, str]] = []
    typed: dict[str, RawValue] = {}
    if form.validate_on_submit():
        typed = _raw(fields, request.form)
        try:
            corrected = corrections.correct(
                record,
                typed,
                request.form.getlist("confirm"),
                reason=form.reason.data or "",
                reason_code=form.reason_code.data or None,
                staff=staff,
                catalog=catalog(),
            )
        except RecordSuperseded as refusal:
            flash(STAFF.text(refusal.code, refusal.params), "error")
            return _to_record(record)
        except CorrectionRefused as refusal:
            form.form_errors.append(STAFF.text(refusal.code))
            locale = _locale()
            problems = {
                field: finding_text(instrument, finding, locale)
                for field, finding in refusal.errors.items()
            }
            warnings = [
                (confirm_token(finding), finding_text(instrument, finding, locale))
                for finding in refusal.warnings
            ]
        except InputRejected as refusal:
            attach(form, refusal)
        else:
            flash(
                _(
                    "Version %(version)s is sealed; version %(old)s is kept as it was.",
                    version=corrected.version,
                    old=record.version,
                ),
                "ok",
            )
            return _to_record(corrected)
    return form_page(
        "coordinator/correct.html",
        form,
        view=record_view.build(record, catalog(), _locale()),
        fields=fields,
        typed=typed,
        problems=problems,
        warnings=warnings,
        needs_code=needs_code,
        nav="participants",
    )


@bp.route("/records/<int:response_id>/void", methods=["GET", "POST"])
def void(response_id: int) -> Page:
    staff = _me()
    record = _record(response_id)
    form = VoidForm()
    _reasons(form, "void")
    if form.validate_on_submit():
        try:
            voided = corrections.void(
                record,
                reason=form.reason.data or "",
                reason_code=form.reason_code.data or None,
                staff=staff,
                catalog=catalog(),
            )
        except RecordSuperseded as refusal:
            flash(STAFF.text(refusal.code, refusal.params), "error")
            return _to_record(record)
        except InputRejected as refusal:
            attach(form, refusal)
        else:
            flash(_("The record is void. The visit can be filled in again."), "ok")
            return _to_record(voided)
    return form_page(
        "coordinator/void.html",
        form,
        view=record_view.build(record, catalog(), _locale()),
        nav="participants",
    )


# --- queries ---------------------------------------------------------------------------------


@bp.post("/queries/<int:query_id>/answer")
def answer_query(query_id: int) -> Page:
    staff = _me()
    query = review.query_for(staff.site_ids, query_id)
    form = QueryAnswerForm()
    if form.validate_on_submit():
        try:
            review.answer_query(query, text=form.text.data or "", staff=staff)
        except (InputRejected, RecordSuperseded) as refusal:
            flash(STAFF.text(refusal.code, refusal.params), "error")
            return redirect(url_for("coordinator.record", response_id=query.response_id), 303)
        flash(_("Your answer is sent to the monitor."), "ok")
    else:
        flash(_("Please write an answer."), "error")
    return redirect(
        url_for("coordinator.record", response_id=query.response_id, _anchor="queries"), 303
    )


# --- the audit trail -----------------------------------------------------------------------

audit_view.add_routes(bp, site_nav="board")
