"""Monitor routes. Only GETs, except the PDF check, whose POST changes nothing but the audit trail."""

from __future__ import annotations

import tempfile
import unicodedata
from collections.abc import Iterator
from typing import IO
from urllib.parse import quote

from flask import Response, abort, current_app, render_template, request, stream_with_context
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from pro_app.models import StaffUser
from pro_app.monitor import bp
from pro_app.questionnaire.catalog import catalog
from pro_app.services import exports, pdf_copies, roster
from pro_app.services.exports.targets import StreamTarget, Target, ZipTarget
from pro_app.web import unit_of_work
from pro_app.web.access import current_staff
from pro_app.web.guard import accepts_files
from pro_app.web.messages.monitor import EXPORT_FORMATS, MONITOR, pdf_state

CHUNK = 64 * 1024


class VerifyForm(FlaskForm):
    pdf = FileField(validators=[FileRequired()])


def _me() -> StaffUser:
    staff = current_staff()
    assert staff is not None  # the blueprint's guard admits only signed-in monitors
    return staff


@bp.get("/")
def records() -> str:
    me = _me()
    study_id = request.args.get("q", "")[:40].strip().upper()
    try:
        page_number = int(request.args.get("page", "1"))
    except ValueError:
        page_number = 1
    page = pdf_copies.records_page(me.site_ids, study_id=study_id, page=page_number)
    sites = roster.sites_of(me.site_ids)
    return render_template(
        "monitor/records.html",
        rows=page.items,
        page=page,
        q=study_id,
        sites=sites,
        zones={site.code: site.timezone for site in sites},
        pdf_state=pdf_state,
        catalog=catalog(),
        nav="records",
    )


def attachment(response: Response, filename: str) -> Response:
    """A download under `filename`, as Werkzeug's send_file names one: quoted by Werkzeug, with
    an ASCII `filename` and, for other characters, RFC 6266 `filename*`; no name can break the
    header."""
    names = {"filename": filename}
    if not filename.isascii():
        simple = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
        names = {"filename": simple, "filename*": "UTF-8''" + quote(filename, safe="!#$&+-.^_`|~")}
    response.headers.set("Content-Disposition", "attachment", **names)
    return response


@bp.get("/records/<int:response_id>.pdf")
@unit_of_work.writes_on_get  # audited as a download
def download_pdf(response_id: int) -> Response:
    me = _me()
    stored = pdf_copies.get_pdf(response_id, site_ids=me.site_ids, actor=me.actor)
    response = Response(
        stored.chunks(),
        mimetype="application/pdf",
        headers={
            "Content-Length": str(stored.size_bytes),
            "X-Content-SHA256": stored.sha256,
        },
    )
    return attachment(response, stored.filename)


@bp.get("/sites/<site_code>/binder.zip")
@unit_of_work.writes_on_get  # audited as a download
def site_binder(site_code: str) -> Response:
    return _binder(site_code, None)


@bp.get("/sites/<site_code>/participants/<study_id>/binder.zip")
@unit_of_work.writes_on_get  # audited as a download
def participant_binder(site_code: str, study_id: str) -> Response:
    return _binder(site_code, study_id)


def _binder(site_code: str, study_id: str | None) -> Response:
    me = _me()
    # Spooled: small binders stay in memory, large ones go to disk, never all at once in RAM.
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    try:
        summary = pdf_copies.write_binder(
            spool,
            site_code=site_code,
            site_ids=me.site_ids,
            actor=me.actor,
            participant_study_id=study_id,
        )
    except BaseException:
        spool.close()
        raise
    size = spool.tell()
    spool.seek(0)
    return attachment(
        Response(
            stream_with_context(_stream(spool)),
            mimetype="application/zip",
            headers={"Content-Length": str(size)},
        ),
        summary.filename,
    )


@bp.get("/exports")
def exports_page() -> str:
    me = _me()
    return render_template(
        "monitor/exports.html",
        sites=roster.sites_of(me.site_ids),
        formats=EXPORT_FORMATS,
        nav="exports",
    )


@bp.get("/exports/<site_code>/<fmt>")
@unit_of_work.writes_on_get  # audited as a download
def export_download(site_code: str, fmt: str) -> Response:
    """One site's records in one format, made now from the database; audited as a download."""
    me = _me()
    if fmt not in exports.FORMATS:
        abort(404)
    site = roster.site_by_code(me.site_ids, site_code)
    history = request.args.get("history") == "1"
    request_ = exports.ExportRequest(
        format=fmt,
        site_ids=[site.id],
        history=history,
        base_url=current_app.config["PRO_SETTINGS"].base_url,
    )
    # Spooled: a small export stays in memory, a large one goes to disk, never all in RAM.
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    try:
        target: Target = StreamTarget(spool) if fmt == "odm" else ZipTarget(spool)
        exports.write(request_, target, catalog(), actor=me.actor, destination="download")
    except BaseException:
        spool.close()
        raise
    size = spool.tell()
    spool.seek(0)
    filename = exports.filename(fmt, site.code, history)
    return attachment(
        Response(
            stream_with_context(_stream(spool)),
            mimetype="application/xml" if fmt == "odm" else "application/zip",
            headers={"Content-Length": str(size)},
        ),
        filename,
    )


def _stream(spool: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := spool.read(CHUNK):
            yield chunk
    finally:
        spool.close()


@bp.route("/verify", methods=["GET", "POST"])
@accepts_files
def verify() -> tuple[str, int] | str:
    me = _me()
    form = VerifyForm()
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("monitor/verify.html", form=form, nav="verify"), status
    data = form.pdf.data.read()
    if not data:
        abort(400)
    verdict = pdf_copies.verify(data, actor=me.actor)
    return render_template(
        "monitor/verify.html",
        form=VerifyForm(formdata=None),
        verdict=verdict,
        findings=[MONITOR.text(problem.code, problem.params) for problem in verdict.problems],
        filename=form.pdf.data.filename,
        catalog=catalog(),
        nav="verify",
    )
