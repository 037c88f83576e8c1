"""The signed copy of a sealed 6MWT log: made by the same worker as the MLHFQ copy, readable by a
monitor (worksheet by screen, choices as words, units, confirmed unusual values, timer data, the
computed values with the reason for every empty one), signed and verifiable."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from pro_app.extensions import db
from pro_app.models import Job, JobStatus, PdfDocument, Response, StaffUser
from pro_app.pdf.worker import RenderAndSign, Worker
from pro_app.questionnaire.catalog import catalog
from pro_app.questionnaire.computations.six_minute_walk import read_timer
from pro_app.services import pdf_copies, sealing, worksheet_entry
from tests.factories import TODAY, make_participant, make_staff, visit_of
from tests.pdf.pdftools import (
    embedded_fonts,
    page_count,
    pdftotext,
    pdftotext_layout,
    pypdf_text,
    squeeze,
)
from tests.walklog import fill_log, seal_log, sixmwt

SIZE_LIMIT = 150 * 1024


def _stored_pdf(pipeline: RenderAndSign, record: Response) -> bytes:
    """Let the worker make the copy, as it does for every sealed record; the job ends DONE."""
    assert Worker(pipeline).drain() == {"done": 1}
    job = db.session.scalars(select(Job).where(Job.response_id == record.id)).one()
    assert job.status == JobStatus.DONE, job.last_error
    content = db.session.scalar(
        select(PdfDocument.content).where(PdfDocument.response_id == record.id)
    )
    assert content is not None
    return content


def _compact(data: bytes, language: str) -> None:
    fonts = embedded_fonts(data)
    assert len(fonts) == 1 and re.fullmatch(r"[A-Z]{6}\+PRIME-PRO-Sans-SC", fonts[0]), fonts
    assert len(data) < SIZE_LIMIT, f"{language}: {len(data)} bytes"
    assert page_count(data) <= 2, f"{language}: {page_count(data)} pages"


def test_chinese_6mwt_record_is_made_by_the_worker_signed_and_readable(
    app_ctx: Flask, pipeline: RenderAndSign, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    participant = make_participant("PRIME-061", language="zh_Hans")
    # 130/min is above the usual 120: confirmed at entry, sealed with the record.
    record = seal_log(visit_of(participant), baseline_hr="130")
    assert record.scores["distance_m"] == 432.0
    data = _stored_pdf(pipeline, record)
    _compact(data, "zh_Hans")
    for extract in (pdftotext, pypdf_text):
        plain = squeeze(extract(data))
        for expected in (
            "6分钟步行试验记录",
            "6-minutewalktest(6MWT)log",
            "PRIME-061",
            record.record_sha256,
            # Screens and groups as on the form, in both languages.
            "步行前",
            "Beforethewalk",
            "步行后",
            "Afterthewalk",
            "休息时测量",
            "Measuredatrest",
            # Field labels in Chinese with the English alongside, values with units.
            "完成的圈数",
            "Completedlaps",
            "7圈",
            "最后不足一圈的距离",
            "Finalpartiallap",
            "12米",
            "试验前Borg呼吸困难评分",
            "Borgdyspnoeabeforethewalk",
            "试验前血氧饱和度（SpO2）",
            "97%",
            "本次访视体重",
            "70kg",
            # Choices as their labels, not codes.
            "不是",
            "都没有",
            "Noneofthese",
            # A field that did not apply, and a blank one.
            "不适用",
            "Notapplicable",
            # The confirmed unusual value.
            "130次/分钟",
            "超出常见范围，录入时已确认无误",
            "Unusualvalue,confirmedascorrectatentry",
            # Timer not used; computed values with their labels and reasons.
            "未使用：步行部分为手工录入",
            "6分钟步行距离",
            "432m",
            "7圈×60米+12米",
            "非中国成人参考值（Enright&Sherrill1998）",
            "Referencevaluesfornon-Chineseadults(Enright&Sherrill1998)",
            "预计值",
            "451.3m",
            "312.3m",
            "95.7%",
            "较基线变化",
            "无：本次即为基线访视。",
            "Borg量表",
            "否，仅显示数字（未安装研究中心文本包）",
            # The built-in Borg scale version, in Chinese with the sealed English alongside.
            "BorgCR10量表，0到10分，每档0.5分",
            "BorgCR10,numbers0-10in0.5steps",
            "受试者本人",
        ):
            assert expected in plain, (extract.__name__, expected)
        assert "practice_test" not in plain and "nasal_cannula" not in plain
    # The worksheet reads in form order: before the walk, the walk, after, then computed values.
    laid_out = squeeze(pdftotext(data))
    order = [laid_out.index(s) for s in ("1步行前", "2步行", "3步行后", "计算值", "电子签名")]
    assert order == sorted(order)

    path = tmp_path / "sixmwt.pdf"
    path.write_bytes(data)
    result = runner.invoke(args=["pdf", "verify", str(path)])
    assert result.exit_code == 0, result.output
    assert "VERIFIED" in result.output and "PRIME-061" in result.output


def _staff_entered_with_timer(staff: StaffUser) -> Response:
    """An English log entered by staff from the paper worksheet, the walk timed with the timer
    (7 laps, one pause from 1:40 to 2:10), then the reason for pausing added by hand."""
    participant = make_participant("PRIME-062", language="en")
    visit = visit_of(participant)
    actor = f"staff:{staff.username}"
    fill_log(visit, staff=staff, actor=actor, language="en")
    result = read_timer(
        {
            "run_id": "run-62626262",
            "laps": "7",
            "lap_times": "[48, 96, 150, 210, 262, 310, 356]",
            "pauses": "[[100, 130]]",
            "elapsed_s": "360",
            "ended_early": "0",
            "partial_lap_m": "12",
        },
        360,
    )
    worksheet_entry.save_timer(
        visit,
        sixmwt(),
        result,
        started_from=worksheet_entry.timer_version(visit, sixmwt()),
        language="en",
        actor=actor,
        staff=staff,
    )
    worksheet_entry.save_screen(
        visit,
        sixmwt(),
        "walk",
        {"stop_reason": "short of breath, leaned on the wall"},
        language="en",
        actor=actor,
        staff=staff,
        only_given=True,
    )
    return sealing.submit(
        visit,
        sixmwt(),
        catalog(),
        language="en",
        actor=actor,
        staff=staff,
        entry_reason="transcribed from the paper worksheet",
    )


def test_english_staff_entered_6mwt_record_names_the_staff_and_summarises_the_timer(
    app_ctx: Flask, pipeline: RenderAndSign
) -> None:
    staff = make_staff("coord.li")
    record = _staff_entered_with_timer(staff)
    assert record.scores["distance_m"] == 432.0 and record.answers["timer"]["laps"] == 7
    data = _stored_pdf(pipeline, record)
    _compact(data, "en")
    # The common header: who entered it and why.
    header = squeeze(pdftotext_layout(data))
    assert "EnteredbyStaffusercoord.li" in header
    assert "Reasontranscribedfromthepaperworksheet" in header
    # Each field on one line with its value, as laid out on the page.
    plain = squeeze(pdftotext_layout(data))
    for expected in (
        "Fieldslastsavedby(numberoffields):Staffusercoord.li",
        "Completedlaps7laps",
        "Finalpartiallap12m",
        "Stoppedorpausedbefore6minutes?Yes",
        "shortofbreath,leanedonthewall",
        "1min40s",
        "Walktimer(rawdata,thesourceofthewalkpart)",
        "Lapscountedbythetimer7",
        "0:48,1:36,2:30,3:30,4:22,5:10,5:56",
        "1:40–2:10",
        "Numberofpauses:1",
        "Elapsedtime(m:ss)6:00",
        "6-minutewalkdistance432m",
        "7laps×60m+12m",
        "Referencevaluesfornon-Chineseadults(Enright&Sherrill1998)",
        "Predicteddistance451.3m",
        "Noneofthese",
        "None:thisisthebaselinevisit.",
    ):
        assert expected in plain, expected
    assert not re.search(r"[\u4e00-\u9fff]", pdftotext(data)), "Chinese text in an English record"

    check = pdf_copies.verify(data, actor="staff:monitor.zhao")
    assert check.ok, check.problems


def test_reference_not_applicable_and_change_from_baseline_say_why(
    app_ctx: Flask, pipeline: RenderAndSign
) -> None:
    # 36 at the test: outside the equation's 40-80 years.
    young = seal_log(visit_of(make_participant("PRIME-063", birth_year=1990)))
    plain = squeeze(pdftotext_layout(pipeline.produce(pipeline.prepare(young)).content))
    assert "年龄36岁，不在方程适用年龄范围（40至80岁）内。" in plain
    assert "Age36isoutsidetheagesoftheequation(40–80years)." in plain
    assert "预计值Predicteddistance不适用Notapplicable" in plain and "451.3" not in plain

    participant = make_participant("PRIME-064", day0=TODAY - timedelta(days=7))
    seal_log(visit_of(participant, "baseline"), test_date=(TODAY - timedelta(days=7)).isoformat())
    later = seal_log(visit_of(participant, "d7"), laps="8", partial_lap_m="0")
    assert later.scores["change_from_baseline_m"] == 48.0
    plain = squeeze(pdftotext_layout(pipeline.produce(pipeline.prepare(later)).content))
    assert "较基线变化Changefrombaseline+48m" in plain and "基线：432米" in plain
