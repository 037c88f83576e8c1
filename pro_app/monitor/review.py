"""The monitor's review: participants -> visits -> records; each record with its versions and
what changed, its verification mark and queries; the trend across visits; the audit trail.

Read-only on the data: the only writes are a verification mark, a query's steps, and the audit
events of both (and of downloads), which `tests/monitor/test_read_only.py` holds it to."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import SelectField, TextAreaField
from wtforms.validators import InputRequired, Length

from pro_app.errors import InputRejected, QueryStateRefused
from pro_app.models import StaffUser
from pro_app.monitor import bp
from pro_app.questionnaire.catalog import catalog
from pro_app.questionnaire.kinds.registry import kind_of
from pro_app.services import progress, review, roster, trends
from pro_app.web import audit_view, record_view
from pro_app.web.access import current_staff, settings
from pro_app.web.messages.staff import STAFF

Page = str | tuple[str, int] | WerkzeugResponse


class QueryForm(FlaskForm):
    field = SelectField(_l("About"), validate_choice=False)
    text = TextAreaField(
        _l("Question"),
        validators=[InputRequired(_l("Please write the question.")), Length(max=500)],
        render_kw={"rows": 3, "maxlength": 500},
    )


class CloseForm(FlaskForm):
    text = TextAreaField(
        _l("Closing note"),
        validators=[InputRequired(_l("Please write a closing note.")), Length(max=500)],
        render_kw={"rows": 2, "maxlength": 500},
    )


def _me() -> StaffUser:
    staff = current_staff()
    assert staff is not None  # the blueprint's guard admits only signed-in monitors
    return staff


def _locale() -> str:
    return str(get_locale())


@bp.get("/participants")
def participants() -> Page:
    me = _me()
    text = request.args.get("q", "")[:40]
    try:
        page_number = int(request.args.get("page", "1"))
    except ValueError:
        page_number = 1
    page = roster.search(me.site_ids, text=text, status=None, page=page_number)
    return render_template(
        "monitor/participants.html",
        page=page,
        q=text,
        pending=review.count_pending(me.site_ids),
        nav="participants",
    )


@bp.get("/participants/<int:participant_id>")
def participant(participant_id: int) -> Page:
    me = _me()
    found = roster.participant_for(me.site_ids, participant_id)
    visits = progress.participant_progress(found, catalog().schedule, settings().link_grace_days)
    current = [item.response for row in visits for item in row.instruments if item.response]
    return render_template(
        "monitor/participant.html",
        participant=found,
        schedule=visits,
        marks=review.marks(record.id for record in current),
        trends=trends.participant_trends(found, catalog()),
        catalog=catalog(),
        nav="participants",
    )


@bp.get("/review/records/<int:response_id>")
def record(response_id: int) -> Page:
    found = review.record_for(_me().site_ids, response_id)
    view = record_view.build(found, catalog(), _locale())
    form = QueryForm()
    form.field.choices = [("", _("The whole record"))] + [
        (field.id, field.label(_locale())) for field in view.fields
    ]
    return render_template(
        "monitor/record.html",
        view=view,
        query_form=form,
        close_form=CloseForm(),
        nav="participants",
    )


def _back(response_id: int, anchor: str = "") -> WerkzeugResponse:
    return redirect(url_for("monitor.record", response_id=response_id, _anchor=anchor or None), 303)


@bp.post("/review/records/<int:response_id>/verified")
def mark_verified(response_id: int) -> Page:
    me = _me()
    found = review.record_for(me.site_ids, response_id)
    review.mark_verified(found, staff=me)
    flash(_("Marked as verified against the source."), "ok")
    return _back(found.id)


@bp.post("/review/records/<int:response_id>/queries")
def raise_query(response_id: int) -> Page:
    me = _me()
    found = review.record_for(me.site_ids, response_id)
    form = QueryForm()
    instrument = catalog().instrument(found.instrument_id)
    fields = [field.id for field in kind_of(instrument).edit_fields(instrument, found.answers)]
    if form.validate_on_submit():
        try:
            review.raise_query(
                found,
                field=form.field.data or None,
                text=form.text.data or "",
                staff=me,
                fields=fields,
            )
        except InputRejected as refusal:
            flash(STAFF.text(refusal.code, refusal.params), "error")
        else:
            flash(_("The query is sent to the site's coordinators."), "ok")
    else:
        flash(_("Please write the question."), "error")
    return _back(found.id, "queries")


@bp.post("/review/queries/<int:query_id>/close")
def close_query(query_id: int) -> Page:
    me = _me()
    query = review.query_for(me.site_ids, query_id)
    form = CloseForm()
    if form.validate_on_submit():
        try:
            review.close_query(query, text=form.text.data or "", staff=me)
        except (InputRejected, QueryStateRefused) as refusal:
            flash(STAFF.text(refusal.code, refusal.params), "error")
        else:
            flash(_("The query is closed."), "ok")
    else:
        flash(_("Please write a closing note."), "error")
    return _back(query.response_id, "queries")


# --- the audit trail -----------------------------------------------------------------------

audit_view.add_routes(bp, site_nav="participants")
