"""Binder entries and download names come from a safe alphabet; Werkzeug encodes the header."""

from __future__ import annotations

import io
import zipfile

from flask import Flask
from flask.testing import FlaskClient

from pro_app.extensions import db
from pro_app.models import Role
from pro_app.pdf.worker import RenderAndSign, Worker
from pro_app.services import pdf_copies
from tests.actions import StaffBrowser
from tests.factories import make_participant, make_staff
from tests.pdf.conftest import SealRecord

EVIL = '../../../EVIL/"x\r\nSet-Cookie: a=1;.pdf'


def test_a_hostile_study_id_cannot_leave_its_folder_or_break_a_name() -> None:
    name = pdf_copies.pdf_filename(EVIL, "baseline", "mlhfq", 1, "ab" * 32)
    assert "/" not in name and ".." not in name and '"' not in name and "\n" not in name
    assert name.endswith("_baseline_mlhfq_v1_abababab.pdf")
    assert pdf_copies.safe_name("../..") == "x"


def test_binder_entries_stay_inside_their_folder(
    app_ctx: Flask,
    client: FlaskClient,
    seal_record: SealRecord,
    pipeline: RenderAndSign,
) -> None:
    participant = make_participant("PRIME-777")
    # A site pattern loosened by mistake would have let this id in.
    participant.study_id = EVIL
    db.session.commit()
    record = seal_record(participant=participant)
    Worker(pipeline).drain()
    site = record.visit.participant.site
    target = io.BytesIO()
    summary = pdf_copies.write_binder(target, site_code=site.code, site_ids=[site.id], actor="m")
    names = zipfile.ZipFile(io.BytesIO(target.getvalue())).namelist()
    pdfs = [name for name in names if name.endswith(".pdf")]
    assert summary.pdfs == 1 and len(pdfs) == 1
    folder, _, file_name = pdfs[0].partition("/")
    assert "/" not in file_name and ".." not in pdfs[0] and '"' not in pdfs[0]
    assert folder == "EVIL_x_Set-Cookie_a_1_pdf"
    # The monitor's download answers with a header Werkzeug encoded, for the PDF and the binder.
    make_staff("monitor-a", role=Role.MONITOR, sites=[site])
    db.session.commit()
    monitor = StaffBrowser(client)
    assert monitor.sign_in("monitor-a").status_code == 303
    for url in (f"/monitor/records/{record.id}.pdf", f"/monitor/sites/{site.code}/binder.zip"):
        response = monitor.get(url)
        assert response.status_code == 200, url
        header = response.headers["Content-Disposition"]
        assert header.startswith("attachment;") and "\n" not in header and "EVIL/" not in header


def test_a_non_ascii_download_name_gets_rfc_6266_filename_star(app_ctx: Flask) -> None:
    from pro_app.monitor.views import attachment

    with app_ctx.test_request_context():
        response = attachment(app_ctx.response_class(b""), "binder_上海.zip")
    header = response.headers["Content-Disposition"]
    assert "filename*=UTF-8''binder_%E4%B8%8A%E6%B5%B7.zip" in header
