"""The monitor's review: participants -> visits -> records with versions and what changed, the
source-data verification mark, the query cycle, the trend chart's numbers, and a proof that every
monitor page changes nothing but the audit events of downloads, marks and queries."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import MetaData, select

from pro_app.extensions import db
from pro_app.models import AuditEvent, DataQuery, PdfDocument, Response, Role, SdvMark
from pro_app.pdf.worker import RenderAndSign, Worker
from pro_app.questionnaire.catalog import catalog
from pro_app.services import corrections, review, trends
from tests.actions import StaffBrowser, csrf_of
from tests.factories import (
    TODAY,
    make_participant,
    make_site,
    make_staff,
    seal_mlhfq,
    visit_of,
)
from tests.walklog import seal_log, sixmwt


@pytest.fixture
def monitor(client: FlaskClient) -> StaffBrowser:
    make_staff("monitor-r", Role.MONITOR, [make_site("SEH")])
    db.session.commit()
    browser = StaffBrowser(client.application.test_client())
    assert browser.sign_in("monitor-r").status_code == 303
    return browser


def _mlhfq(visit: Any, value: int) -> Response:
    return seal_mlhfq(visit, value, actor="participant:x")


@pytest.fixture
def trial(app_ctx: Flask) -> dict[str, Any]:
    """A participant with baseline and Day 43 records (one corrected), one at another site."""
    from datetime import timedelta

    participant = make_participant("PRIME-011", day0=TODAY - timedelta(days=43), language="en")
    baseline = visit_of(participant, "baseline")
    d43 = visit_of(participant, "d43")
    first = _mlhfq(baseline, 2)  # total 42
    walk = seal_log(baseline)  # 432 m
    later = _mlhfq(d43, 1)  # total 21: 21 points better
    coordinator = make_staff("coord-r")
    corrected = corrections.correct(
        later,
        {"mlhf01": "5"},
        reason="paper form",
        reason_code="transcription_error",
        staff=coordinator,
        catalog=catalog(),
    )  # total 25
    elsewhere = make_participant("PRIME-099", site=make_site("XYZ"))
    foreign = _mlhfq(visit_of(elsewhere), 3)
    db.session.commit()
    return {
        "participant": participant,
        "first": first,
        "walk": walk,
        "later": later,
        "corrected": corrected,
        "foreign": foreign,
    }


def test_participant_visits_records_and_the_trend(
    monitor: StaffBrowser, trial: dict[str, Any]
) -> None:
    participant = trial["participant"]
    listing = monitor.get("/monitor/participants").get_data(as_text=True)
    assert "PRIME-011" in listing and "PRIME-099" not in listing
    page = monitor.get(f"/monitor/participants/{participant.id}").get_data(as_text=True)
    assert f"/monitor/review/records/{trial['corrected'].id}" in page
    assert "第2版" in page and "未核查" in page
    # The trend: MLHFQ total 42 at baseline, 25 at Day 43: 17 points better, beyond the MCID.
    series = {s.measure.key: s for s in trends.participant_trends(participant, catalog())}
    total = series["total"]
    assert [(p.visit_code, p.value, p.change) for p in total.points] == [
        ("baseline", 42.0, None),
        ("d43", 25.0, -17.0),
    ]
    assert total.points[1].direction == "better" and total.points[1].reaches_mcid
    assert [p.value for p in series["distance_m"].points] == [432.0]
    assert "<svg" in page and "各次访视的变化趋势" in page
    assert "-17" in page and "改善达到MCID" in page
    circles = re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)"', page)
    assert len(circles) >= 5  # total, physical, emotional at two visits, and the walk


def test_a_record_shows_its_versions_with_what_changed(
    monitor: StaffBrowser, trial: dict[str, Any]
) -> None:
    corrected = trial["corrected"]
    page = monitor.get(f"/monitor/review/records/{corrected.id}").get_data(as_text=True)
    assert corrected.record_sha256 in page and "与内容相符" in page
    assert "mlhfq-en-demo-2" in page  # the words the patient saw
    assert "<del>1</del>" in page and "<ins>5</ins>" in page
    assert "纸质问卷转录错误: paper form" in page and "coord-r" in page
    # Who entered each value: the changed one is the coordinator's, the rest stay the patient's.
    row = r'<tr id="field-(\w+)">(?:(?!</tr>).)*?<td class="small muted">\s*([^<]+?)\s*</td>'
    entered = dict(re.findall(row, page, flags=re.S))
    assert entered["mlhf01"] == "coord-r"
    assert {entered[f"mlhf{n:02d}"] for n in range(2, 22)} == {"受试者本人"}
    assert "2026年11月25日 10:00（北京时间）" in page and "2026-11-25 02:00:00 UTC" in page
    assert monitor.get(f"/monitor/review/records/{trial['foreign'].id}").status_code == 404


def test_verification_marks_a_version_and_a_correction_starts_unverified(
    monitor: StaffBrowser, trial: dict[str, Any]
) -> None:
    first = trial["first"]
    url = f"/monitor/review/records/{first.id}"
    marked = monitor.client.post(f"{url}/verified", data={"csrf_token": csrf_of(monitor.get(url))})
    assert marked.status_code == 303
    assert db.session.scalars(select(SdvMark)).one().response_id == first.id
    assert "已由monitor-r于" in monitor.get(url).get_data(as_text=True)
    coordinator = db.session.scalars(
        select(corrections.StaffUser).where(corrections.StaffUser.username == "coord-r")
    ).one()
    newer = corrections.correct(
        first,
        {"mlhf01": "3"},
        reason="paper form",
        reason_code="transcription_error",
        staff=coordinator,
        catalog=catalog(),
    )
    db.session.commit()
    assert review.mark(newer) is None and review.mark(first) is not None
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "record.verified")
    ).one()
    assert event.details["response_id"] == first.id


def test_the_query_cycle(monitor: StaffBrowser, trial: dict[str, Any]) -> None:
    record = trial["corrected"]
    url = f"/monitor/review/records/{record.id}"
    asked = monitor.client.post(
        f"{url}/queries",
        data={"csrf_token": csrf_of(monitor.get(url)), "field": "mlhf01", "text": "Why 5?"},
    )
    assert asked.status_code == 303
    query = db.session.scalars(select(DataQuery)).one()
    assert (query.field, query.status.value) == ("mlhf01", "open")
    shown = monitor.get(url).get_data(as_text=True)
    assert "针对1. " in shown and "针对mlhf01" not in shown  # the item's words, not its id
    coordinator = make_staff("coord-s")
    review.answer_query(query, text="The paper says 5.", staff=coordinator)
    db.session.commit()
    closed = monitor.client.post(
        f"/monitor/review/queries/{query.id}/close",
        data={"csrf_token": csrf_of(monitor.get(url)), "text": "Agreed with the source."},
    )
    assert closed.status_code == 303
    db.session.refresh(query)
    assert query.status.value == "closed"
    assert [e.step.value for e in query.events] == ["open", "answered", "closed"]
    actions = list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.action.like("query.%"))
            .order_by(AuditEvent.id)
        )
    )
    assert actions == ["query.opened", "query.answered", "query.closed"]
    again = monitor.client.post(
        f"/monitor/review/queries/{query.id}/close",
        data={"csrf_token": csrf_of(monitor.get(url)), "text": "again"},
    )
    assert "该质疑已关闭，不能再回复。" in monitor.get(again.location).get_data(as_text=True)
    assert len(db.session.scalars(select(DataQuery)).one().events) == 3


def test_the_same_question_sent_twice_is_one_query(
    monitor: StaffBrowser, trial: dict[str, Any]
) -> None:
    """A double tap on "Send" (or the form sent again) asks once: one query, one audit event.
    Another question, or the same one once the first is answered, is a query of its own."""
    record = trial["corrected"]
    url = f"/monitor/review/records/{record.id}"
    for _ in range(2):
        sent = monitor.client.post(
            f"{url}/queries",
            data={"csrf_token": csrf_of(monitor.get(url)), "field": "mlhf01", "text": "Why 5?"},
        )
        assert sent.status_code == 303
    assert len(db.session.scalars(select(DataQuery)).all()) == 1
    opened = select(AuditEvent.id).where(AuditEvent.action == "query.opened")
    assert len(db.session.scalars(opened).all()) == 1
    other = monitor.client.post(
        f"{url}/queries",
        data={"csrf_token": csrf_of(monitor.get(url)), "field": "mlhf02", "text": "Why 5?"},
    )
    assert other.status_code == 303
    query = db.session.scalars(select(DataQuery).where(DataQuery.field == "mlhf01")).one()
    review.answer_query(query, text="The paper says 5.", staff=make_staff("coord-t"))
    db.session.commit()
    again = monitor.client.post(
        f"{url}/queries",
        data={"csrf_token": csrf_of(monitor.get(url)), "field": "mlhf01", "text": "Why 5?"},
    )
    assert again.status_code == 303
    assert len(db.session.scalars(select(DataQuery)).all()) == 3
    assert len(db.session.scalars(opened).all()) == 3


ALLOWED_WRITES = {
    "pdf.downloaded",
    "binder.exported",
    "records.exported",
    "pdf.verified",
    "record.verified",
    "query.opened",
    "query.closed",
}
# audit_chain_head is the audit trail's own pointer to its newest event: it moves with the events.
REVIEW_TABLES = {
    "audit_event",
    "audit_chain_head",
    "sdv_mark",
    "data_query",
    "query_event",
    "staff_session",
}


def _snapshot() -> dict[str, list[tuple[Any, ...]]]:
    metadata = MetaData()
    metadata.reflect(bind=db.session.connection())
    rows = {}
    for name, table in sorted(metadata.tables.items()):
        if name in REVIEW_TABLES or name == "alembic_version":
            continue
        rows[name] = sorted(
            (tuple(str(v) for v in row) for row in db.session.execute(table.select())), key=str
        )
    return rows


def test_every_monitor_page_changes_nothing_but_its_audit_events(
    app_ctx: Flask, monitor: StaffBrowser, trial: dict[str, Any], pipeline: RenderAndSign
) -> None:
    Worker(pipeline).drain()
    db.session.commit()
    participant = trial["participant"]
    record = trial["corrected"]
    site_id = participant.site_id
    query = review.raise_query(
        record,
        field=None,
        text="A question",
        staff=make_staff("monitor-z", Role.MONITOR),
        fields=[],
    )
    db.session.commit()
    before = _snapshot()
    last_event = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    params = {
        "participant_id": participant.id,
        "response_id": record.id,
        "site_id": site_id,
        "site_code": "SEH",
        "study_id": "PRIME-011",
        "query_id": query.id,
        "fmt": "csv",
    }
    visited = set()
    for rule in app_ctx.url_map.iter_rules():
        if not rule.endpoint.startswith("monitor."):
            continue
        url = rule.build(params)[1]  # type: ignore[index]
        visited.add(rule.endpoint)
        if "GET" in rule.methods:
            assert monitor.get(url).status_code == 200, url
        if "POST" in rule.methods:
            page = monitor.get(f"/monitor/review/records/{record.id}")
            data: dict[str, Any] = {"csrf_token": csrf_of(page), "text": "note", "field": ""}
            if rule.endpoint == "monitor.verify":
                stored = db.session.scalar(
                    select(PdfDocument.content).where(PdfDocument.response_id == record.id)
                )
                data["pdf"] = (io.BytesIO(stored), "copy.pdf")
            response = monitor.client.post(url, data=data)
            assert response.status_code in (200, 303), (url, response.status_code)
    assert len(visited) >= 15
    db.session.expire_all()
    assert _snapshot() == before
    written = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.id > last_event)))
    assert written and written <= ALLOWED_WRITES, written - ALLOWED_WRITES


def _computed_cells(page: str) -> list[str]:
    table = page.split('<table class="table values">')[-1].split("</table>")[0]
    return [cell.strip() for cell in re.findall(r"<td>([^<]*)</td>", table)]


def _english_monitor(client: FlaskClient, site: Any) -> StaffBrowser:
    """A second monitor of `site`, who reads in English, signed in."""
    make_staff("monitor-en", Role.MONITOR, [site], language="en")
    db.session.commit()
    english = StaffBrowser(client.application.test_client())
    assert english.sign_in("monitor-en").status_code == 303
    return english


def test_a_walk_records_computed_values_read_as_words_in_each_language(
    monitor: StaffBrowser, trial: dict[str, Any], client: FlaskClient
) -> None:
    url = f"/monitor/review/records/{trial['walk'].id}"
    page = monitor.get(url).get_data(as_text=True)
    cells = _computed_cells(page)
    assert "本次即为基线访视" in cells  # why there is no change from baseline
    assert "年龄 = 试验日期所在年份减出生年份" in cells
    assert any(cell.startswith("Enright–Sherrill 1998方程") for cell in cells)
    assert {"男", "女"} & set(cells) and {"是", "否"} & set(cells)
    codes = {"this_is_the_baseline_visit", "enright_sherrill_1998", "male", "female", "yes", "no"}
    assert not codes & set(cells), cells

    english = _english_monitor(client, trial["participant"].site)
    cells = _computed_cells(english.get(url).get_data(as_text=True))
    assert "This is the baseline visit" in cells
    assert any(cell.startswith("Enright &amp; Sherrill 1998") for cell in cells)
    assert {"Male", "Female"} & set(cells) and {"Yes", "No"} & set(cells)
    assert not codes & set(cells), cells


def test_a_later_walk_names_its_baseline_visit_its_confirmed_warnings_and_its_units(
    monitor: StaffBrowser, trial: dict[str, Any], client: FlaskClient
) -> None:
    """What the exports keep as codes (the baseline visit, "weight_kg:unusual_value", the
    built-in Borg version) and bare numbers read on the record's page as words and units."""
    from datetime import timedelta

    participant = make_participant(
        "PRIME-012", site=trial["participant"].site, day0=TODAY - timedelta(days=7)
    )
    seal_log(visit_of(participant, "baseline"))
    later = seal_log(visit_of(participant, "d7"), weight_kg="160")  # unusual, confirmed
    assert later.answers["confirmed_warnings"]
    db.session.commit()
    url = f"/monitor/review/records/{later.id}"
    cells = _computed_cells(monitor.get(url).get_data(as_text=True))
    assert "基线（第0天）" in cells
    weight = sixmwt().field("weight_kg").label
    assert f"{weight.zh}：超出常见范围，录入时已确认无误" in cells, cells
    assert any(cell.startswith("Borg CR10量表，0到10分") for cell in cells), cells
    assert "432 米" in cells and any(cell.endswith(" 岁") for cell in cells), cells
    assert not {"baseline", "weight_kg:unusual_value"} & set(cells), cells

    english = _english_monitor(client, participant.site)
    cells = _computed_cells(english.get(url).get_data(as_text=True))
    assert "Baseline (Day 0)" in cells
    assert f"{weight.en}: Unusual value, confirmed as correct at entry" in cells
    assert any(cell.startswith("Borg CR10, numbers 0 to 10 in steps of 0.5") for cell in cells)
    assert "432 m" in cells and any(cell.endswith(" years") for cell in cells), cells
