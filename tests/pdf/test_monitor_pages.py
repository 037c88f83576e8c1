"""The monitor's pages: their sites' records, the stored signed PDF, binders, the upload check."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from pro_app.extensions import db
from pro_app.models import AuditEvent, PdfDocument, Response, Role
from pro_app.pdf.worker import RenderAndSign, Worker
from tests.actions import StaffBrowser, csrf_of
from tests.factories import make_participant, make_site
from tests.factories import make_staff as make_staff_user
from tests.pdf.conftest import SealRecord


@pytest.fixture
def monitor(client: FlaskClient) -> StaffBrowser:
    make_staff_user("monitor-a", Role.MONITOR, [make_site("SEH")])
    db.session.commit()
    browser = StaffBrowser(client.application.test_client())
    assert browser.sign_in("monitor-a").status_code == 303
    return browser


@pytest.fixture
def records(seal_record: SealRecord, pipeline: RenderAndSign) -> list[Response]:
    """Two sealed records at SEH (one with its PDF made), one at another site."""
    made = seal_record(study_id="PRIME-011")
    Worker(pipeline).drain()
    waiting = seal_record(study_id="PRIME-012")
    elsewhere = seal_record(participant=make_participant("PRIME-013", site=make_site("XYZ")))
    db.session.commit()
    return [made, waiting, elsewhere]


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_the_list_shows_own_sites_records_with_pdf_state(
    monitor: StaffBrowser, records: list[Response]
) -> None:
    home = monitor.get("/staff/")
    assert home.location == "/monitor/"
    page = monitor.get("/monitor/").get_data(as_text=True)
    assert "PRIME-011" in page and "PRIME-012" in page and "PRIME-013" not in page
    assert "下载PDF" in page and "等待生成" in page
    assert f"/monitor/records/{records[0].id}.pdf" in page
    assert "2026年11月25日 10:00（北京时间）" in page
    assert "treatment" not in page.lower() and "组别" not in page


def test_download_streams_the_stored_signed_copy_and_is_audited(
    monitor: StaffBrowser, records: list[Response]
) -> None:
    stored = db.session.scalars(
        select(PdfDocument).where(PdfDocument.response_id == records[0].id)
    ).one()
    response = monitor.get(f"/monitor/records/{records[0].id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.get_data() == stored.content
    assert response.headers["X-Content-SHA256"] == stored.sha256
    assert "attachment" in response.headers["Content-Disposition"]
    assert _actions()[-1] == "pdf.downloaded"


def test_other_sites_and_unmade_pdfs_are_refused(
    monitor: StaffBrowser, records: list[Response]
) -> None:
    assert monitor.get(f"/monitor/records/{records[2].id}.pdf").status_code == 404
    assert monitor.get("/monitor/records/999999.pdf").status_code == 404
    assert monitor.get(f"/monitor/records/{records[1].id}.pdf").status_code == 409
    assert monitor.get("/monitor/sites/XYZ/binder.zip").status_code == 404


def test_site_and_participant_binders(monitor: StaffBrowser, records: list[Response]) -> None:
    site = monitor.get("/monitor/sites/SEH/binder.zip")
    assert site.status_code == 200 and site.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(site.get_data())) as archive:
        manifest = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode())))
        pdfs = [name for name in archive.namelist() if name.endswith(".pdf")]
    assert {row["study_id"] for row in manifest} == {"PRIME-011", "PRIME-012"}
    assert len(pdfs) == 1 and "PRIME-011" in pdfs[0]
    one = monitor.get("/monitor/sites/SEH/participants/PRIME-012/binder.zip")
    with zipfile.ZipFile(io.BytesIO(one.get_data())) as archive:
        rows = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode())))
    assert [row["study_id"] for row in rows] == ["PRIME-012"]
    assert _actions().count("binder.exported") == 2


def _upload(monitor: StaffBrowser, data: bytes | None) -> tuple[int, str]:
    form: dict[str, object] = {"csrf_token": csrf_of(monitor.get("/monitor/verify"))}
    if data is not None:
        form["pdf"] = (io.BytesIO(data), "copy.pdf")
    response = monitor.client.post("/monitor/verify", data=form, content_type="multipart/form-data")
    return response.status_code, response.get_data(as_text=True)


def test_the_upload_check_verifies_a_copy_and_catches_a_changed_byte(
    monitor: StaffBrowser, records: list[Response]
) -> None:
    original = monitor.get(f"/monitor/records/{records[0].id}.pdf").get_data()
    status, page = _upload(monitor, original)
    assert status == 200 and "核验通过" in page and "PRIME-011" in page
    facts = page[page.index('<dl class="facts">') : page.index("</dl>")]
    assert "基线（第0天）" in facts and ">baseline<" not in facts and ">mlhfq" not in facts
    status, page = _upload(monitor, b"not a pdf at all")
    assert status == 200 and "这不是可以读取的PDF文件" in page and "PdfReadError" not in page
    tampered = bytearray(original)
    position = tampered.index(b"/Producer") if b"/Producer" in tampered else len(tampered) // 3
    tampered[position + 2] ^= 0x01
    status, page = _upload(monitor, bytes(tampered))
    assert status == 200 and "核验未通过" in page
    assert _actions().count("pdf.verified") == 3


def test_the_upload_check_without_a_file_says_so(monitor: StaffBrowser) -> None:
    status, page = _upload(monitor, None)
    assert status == 400 and "请选择一个PDF文件" in page


def test_a_coordinator_cannot_use_the_monitor_pages(
    client: FlaskClient, records: list[Response]
) -> None:
    make_staff_user("coord-z", Role.COORDINATOR, [make_site("SEH")])
    db.session.commit()
    coordinator = StaffBrowser(client.application.test_client())
    coordinator.sign_in("coord-z")
    assert coordinator.get(f"/monitor/records/{records[0].id}.pdf").status_code == 403
