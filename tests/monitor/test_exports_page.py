"""The monitor's export page: their own sites only, four formats, every download audited."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import select

from pro_app.extensions import db
from pro_app.models import AuditEvent, Role
from tests.actions import StaffBrowser
from tests.exporting import Trial, make_trial
from tests.factories import make_staff


@pytest.fixture
def trial(client: FlaskClient) -> Trial:
    made = make_trial()
    make_staff("monitor-a", Role.MONITOR, [made.site], language="en")
    db.session.commit()
    return made


@pytest.fixture
def monitor(client: FlaskClient, trial: Trial) -> StaffBrowser:
    browser = StaffBrowser(client.application.test_client())
    assert browser.sign_in("monitor-a").status_code == 303
    return browser


def _exports() -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "records.exported")
            .order_by(AuditEvent.id)
        )
    )


def test_the_page_offers_each_format_for_the_monitors_own_sites(monitor: StaffBrowser) -> None:
    page = monitor.get("/monitor/exports")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for fmt in ("csv", "odm", "sdtm", "fhir"):
        assert f"/monitor/exports/SEH/{fmt}" in text
    assert "/monitor/exports/SEH/csv?history=1" in text
    assert "/monitor/exports/SEH/sdtm?history=1" not in text
    assert "XYZ" not in text
    assert "Data exports" in text and "SDTM datasets (XPT and CSV) with Define-XML (zip)" in text


def test_the_page_speaks_chinese_to_a_chinese_monitor(client: FlaskClient, trial: Trial) -> None:
    make_staff("monitor-zh", Role.MONITOR, [trial.site], language="zh_Hans")
    db.session.commit()
    browser = StaffBrowser(client.application.test_client())
    assert browser.sign_in("monitor-zh").status_code == 303
    text = browser.get("/monitor/exports").get_data(as_text=True)
    assert "数据导出" in text and "下载全部版本" in text and "SDTM数据集" in text


def test_a_download_holds_only_the_site_and_is_an_audit_event(
    monitor: StaffBrowser, trial: Trial
) -> None:
    before = len(_exports())
    response = monitor.get("/monitor/exports/SEH/csv")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "prime-pro_csv_SEH_current_" in response.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        assert sorted(archive.namelist()) == ["dictionary.csv", "records.csv"]
        rows = list(csv.DictReader(io.StringIO(archive.read("records.csv").decode("utf-8-sig"))))
    assert {r["study_id"] for r in rows} == {"PRIME-001"}
    events = _exports()
    assert len(events) == before + 1
    event = events[-1]
    assert event.actor == "staff:monitor-a" and event.site_id == trial.site.id
    assert event.details["format"] == "csv" and event.details["sites"] == ["SEH"]
    assert event.details["records"] == 2 and event.details["history"] is False


def test_each_format_downloads(monitor: StaffBrowser) -> None:
    odm = monitor.get("/monitor/exports/SEH/odm?history=1")
    assert odm.status_code == 200 and odm.mimetype == "application/xml"
    root = etree.fromstring(odm.data)
    assert root.get("FileType") == "Transactional"
    subjects = {s.get("SubjectKey") for s in root.iter("{*}SubjectData")}
    assert subjects == {"PRIME-001", "PRIME-002"}
    sdtm = monitor.get("/monitor/exports/SEH/sdtm")
    with zipfile.ZipFile(io.BytesIO(sdtm.data)) as archive:
        assert {"qs.xpt", "ft.xpt", "vs.xpt", "define.xml"} <= set(archive.namelist())
        assert b"PRIME-501" not in archive.read("qs.csv")
    fhir = monitor.get("/monitor/exports/SEH/fhir")
    with zipfile.ZipFile(io.BytesIO(fhir.data)) as archive:
        assert b"PRIME-501" not in archive.read("QuestionnaireResponse.ndjson")
    assert [e.details["format"] for e in _exports()[-3:]] == ["odm", "sdtm", "fhir"]


def test_another_sites_export_is_not_found_and_not_audited(monitor: StaffBrowser) -> None:
    before = len(_exports())
    for url in (
        "/monitor/exports/XYZ/csv",
        "/monitor/exports/NOPE/csv",
        "/monitor/exports/SEH/xlsx",
    ):
        assert monitor.get(url).status_code == 404, url
    assert monitor.get("/monitor/exports/SEH/sdtm?history=1").status_code == 400
    assert len(_exports()) == before


def test_a_coordinator_cannot_export(client: FlaskClient, trial: Trial) -> None:
    browser = StaffBrowser(client.application.test_client())
    assert browser.sign_in("coord.li").status_code == 303
    assert browser.get("/monitor/exports/SEH/csv").status_code == 403
