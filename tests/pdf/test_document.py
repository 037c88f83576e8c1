"""The signed copy a monitor files: what it says, in which language, with which font, how big."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re

import pytest
from flask import Flask
from pypdf import PdfReader
from pypdf.generic import create_string_object
from sqlalchemy import text

from pro_app.extensions import db
from pro_app.pdf.content import RecordAltered, record_document
from pro_app.pdf.document import Line
from pro_app.pdf.render import AssetRefused, LocalAssetFetcher, RenderError
from pro_app.pdf.sections.choice import choice_section, item_ranges
from pro_app.pdf.worker import RenderAndSign
from pro_app.questionnaire.catalog import catalog
from pro_app.services import corrections
from tests.factories import as_database_owner, make_staff
from tests.pdf.conftest import SealRecord, make_correction
from tests.pdf.pdftools import (
    embedded_fonts,
    page_count,
    pdftotext,
    pypdf_text,
    squeeze,
    string_bytes,
    word_lefts,
)

# Total 40; physical (items 2-7, 12, 13) 1+2+3+4+5+2+2+2 = 21; emotional (17-21) 5.
ANSWERS = [0, 1, 2, 3, 4, 5, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1]
SIZE_LIMIT = 150 * 1024


def _pdf(pipeline: RenderAndSign, response: object) -> bytes:
    return pipeline.produce(pipeline.prepare(response)).content  # type: ignore[arg-type]


def test_chinese_record_shows_answers_scores_and_identity_as_text(
    app_ctx: Flask, seal_record: SealRecord, pipeline: RenderAndSign
) -> None:
    record = seal_record(ANSWERS, language="zh_Hans", study_id="PRIME-007")
    data = _pdf(pipeline, record)
    for extract in (pdftotext, pypdf_text):
        plain = squeeze(extract(data))
        # Identity of the trial, site, participant, visit and instrument.
        for expected in (
            "NCT04992832",
            "DFSC-2018(CR)-08",
            "PRIME-007",
            "研究中心SEH",
            "基线（第0天）",
            "Baseline(Day0)",
            "访视窗",
            "2026年11月11日至2026年11月25日",
            "明尼苏达心功能不全生命质量量表（MLHFQ）",
            "MLHFQ1.0",
            "mlhfq-sum-1.0",
            "mlhfq-zh_Hans-demo-1",
            record.record_sha256,
            record.textpack_sha256,
            "受试者本人",
            "2026年11月25日10:00（北京时间）",
            "2026-11-2502:00:00UTC",
            "第1页，共2页",
            "Page1of2",
            "电子签名",
            "ElectronicSignature".replace("S", "s"),
        ):
            assert squeeze(expected) in plain, (extract.__name__, expected)
        # Each item with its wording in Chinese, the English alongside, and its answer.
        assert (
            "【演示】第1题：脚踝或腿部肿胀" in plain
            and "[Demo]Question1:swellinginanklesorlegs" in plain
        )
        assert "【演示】第21题：情绪低落" in plain
        # A labelled answer carries its label after the wording, in both languages.
        assert "【演示】第1题：脚踝或腿部肿胀—完全没有" in plain and "legs—Notatall" in plain
        assert "【演示】第6题：夜间睡眠—非常大" in plain and "sleep—Agreatdeal" in plain
        assert "Totalscore" in plain and "Physicaldimension" in plain and "0–105" in plain
        # The demo banner, in both languages.
        assert "演示文本，不是授权的问卷文本" in plain and "Demowording" in plain
        assert "演示签名" in plain
    # Each line of the answer list reads: item number, answer, wording; in item order.
    rows = re.findall(r"^(\d+) (\d|—) 【演示】第(\d+)题", pypdf_text(data), re.MULTILINE)
    assert [(int(n), int(a)) for n, a, _ in rows] == list(enumerate(ANSWERS, start=1))
    assert all(n == m for n, _, m in rows)
    # Scores: label, value, range and the items each sums, on one line.
    assert record.scores["total"]["value"] == 40 and record.scores["physical"]["value"] == 21
    lines = pypdf_text(data).splitlines()
    for score in ("总分 40 0–105 1–21", "躯体维度 21 0–40 2–7, 12, 13", "情绪维度 5 0–25 17–21"):
        assert score in lines, score


@pytest.mark.parametrize("language", ["zh_Hans", "en"])
def test_the_full_width_facts_line_up_with_the_facts_above_them(
    app_ctx: Flask, seal_record: SealRecord, pipeline: RenderAndSign, language: str
) -> None:
    """The record's hash, the text pack's hash and the certificate's start where the study id
    does (they started 8 mm further right, on a stop of their own)."""
    record = seal_record(ANSWERS, language=language, study_id="PRIME-009")
    data = _pdf(pipeline, record)
    lefts = word_lefts(data)
    column = min(lefts["PRIME-009"])  # the fact, left of the page head's copy
    # Each hash as a fact (the record's is also in every page's footer, at the margin).
    hashes = {word: places for word, places in lefts.items() if re.fullmatch(r"[0-9a-f]{64}", word)}
    assert len(hashes) == 3, hashes  # the record, the text pack, the certificate
    for word, places in hashes.items():
        assert any(abs(x - column) < 0.5 for x in places), (word, column, places)


def test_english_record_is_in_english_only(
    app_ctx: Flask, seal_record: SealRecord, pipeline: RenderAndSign
) -> None:
    record = seal_record([5] * 21, language="en", study_id="PRIME-008")
    data = _pdf(pipeline, record)
    plain = squeeze(pdftotext(data))
    for expected in (
        "Participantstudyid",
        "PRIME-008",
        "Baseline(Day0)",
        "SiteSEH",
        "[Demo]Question21:feelingdepressed",
        "Totalscore1050–1051–21",
        "Physicaldimension400–402–7,12,13",
        "Emotionaldimension250–2517–21",
        "25Nov202610:00ChinaStandardTime",
        "Page1of",
        "Demowording",
        "Demosignature",
        "PRIME-PROmadethiscopyfromthesealedrecord",
    ):
        assert expected in plain, expected
    assert not re.search(r"[\u4e00-\u9fff]", pdftotext(data)), "Chinese text in an English record"


def test_every_page_names_the_record_and_the_scores_stay_on_one_page(
    app_ctx: Flask, seal_record: SealRecord, pipeline: RenderAndSign
) -> None:
    record = seal_record(language="zh_Hans", study_id="PRIME-009")
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(_pdf(pipeline, record))).pages]
    assert len(pages) == 2
    for number, page_text in enumerate(pages, start=1):
        assert "PRIME-009 · 基线（第0天） · MLHFQ v1" in page_text, number
        assert f"Record SHA-256 {record.record_sha256}" in page_text, number
        assert f"第{number}页，共2页 · Page {number} of 2" in page_text, number
        assert "演示 · DEMO" in page_text, number
    english = seal_record([5] * 21, language="en", study_id="PRIME-010")
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(_pdf(pipeline, english))).pages]
    with_scores = [
        i
        for i, page_text in enumerate(pages)
        for label in ("Total score", "Physical dimension", "Emotional dimension")
        if label in page_text
    ]
    assert len(set(with_scores)) == 1 and len(with_scores) == 3


def test_unanswered_item_is_blank_and_its_scores_are_not_computed(
    app_ctx: Flask, seal_record: SealRecord, pipeline: RenderAndSign
) -> None:
    answers: list[int | None] = [2] * 21
    answers[16] = None  # item 17: emotional and total
    record = seal_record(answers, language="zh_Hans")
    data = _pdf(pipeline, record)
    plain = squeeze(pdftotext(data))
    lines = pypdf_text(data).splitlines()
    # The item shows a dash for its answer, and says so in both languages.
    assert "17 — 【演示】第17题：觉得拖累家人 — 未回答" in lines
    assert "[Demo] Question 17: being a burden — Not answered" in lines
    assert "未计算：有1个条目未回答。" in plain  # total and emotional
    assert plain.count("未计算：有1个条目未回答。") == 2
    assert "总分 — 0–105 1–21" in lines and "情绪维度 — 0–25 17–21" in lines
    assert "躯体维度 16 0–40 2–7, 12, 13" in lines


def test_a_correction_shows_its_version_reason_and_staff(
    app_ctx: Flask, seal_record: SealRecord, pipeline: RenderAndSign
) -> None:
    original = seal_record([2] * 21, language="zh_Hans")
    staff = make_staff("coord.wang")
    correction = make_correction(original, staff, "受试者在纸质问卷上第3题选了4", {"mlhf03": 4})
    data = _pdf(pipeline, correction)
    plain = squeeze(pdftotext(data))
    # The changed answer says what it was; an unchanged one says nothing more.
    lines = pypdf_text(data).splitlines()
    assert "3 4 【演示】第3题：走路和爬楼梯 · 原为 2" in lines
    assert "[Demo] Question 3: walking and stairs · was 2" in lines
    assert "2 2 【演示】第2题：白天需要坐下或躺下休息" in lines
    assert plain.count("原为") == 1
    assert "记录版本" in plain and "2·更正" in plain and "取代第1版" in plain
    assert "更正原因" in plain and "受试者在纸质问卷上第3题选了4" in plain
    assert "研究人员" in plain and "coord.wang" in plain
    # The reason from the fixed list, in the record's language and in English.
    assert "纸质问卷转录错误：受试者在纸质问卷上第3题选了4" in plain
    assert "Transcriptionerrorfromthepaperform" in plain
    assert correction.record_sha256 in plain
    original_plain = squeeze(pdftotext(_pdf(pipeline, original)))
    assert "1·初始版本（未更正）" in original_plain and "更正原因" not in original_plain


def test_a_voided_version_says_so_with_its_reason(
    app_ctx: Flask, seal_record: SealRecord, pipeline: RenderAndSign
) -> None:
    original = seal_record([2] * 21, language="en")
    voided = corrections.void(
        original,
        reason="this is PRIME-002's form",
        reason_code="wrong_participant",
        staff=make_staff("coord.zhao"),
        catalog=catalog(),
    )
    plain = squeeze(pdftotext(_pdf(pipeline, voided)))
    assert "VOID" in plain and "Reasonforvoiding" in plain
    assert "Enteredforthewrongparticipant:thisisPRIME-002'sform" in plain
    assert "nolongercount" in plain and "Correction" not in plain


@pytest.mark.parametrize(
    ("numbers", "shown"),
    [
        ((2, 3, 4, 5, 6, 7, 12, 13), "2–7, 12, 13"),
        ((4, 5, 9), "4, 5, 9"),
        ((17, 18, 19, 20, 21), "17–21"),
        ((1, 3, 5), "1, 3, 5"),
        ((9,), "9"),
        ((), ""),
    ],
)
def test_a_score_lists_the_items_it_sums(numbers: tuple[int, ...], shown: str) -> None:
    assert item_ranges(numbers) == shown


def test_free_text_prints_as_written_and_cannot_change_the_layout(
    app_ctx: Flask, seal_record: SealRecord, pipeline: RenderAndSign
) -> None:
    """Markup in a reason is text, not HTML; a pasted tab does not jump to another column."""
    original = seal_record([2] * 21, language="zh_Hans")
    staff = make_staff("coord.zhou")
    reason = '纸质问卷<b>第3题</b>\t选了4 & "已核对"'
    correction = make_correction(original, staff, reason, {"mlhf03": 4})
    plain = squeeze(pdftotext(_pdf(pipeline, correction)))
    # The reason wraps where its line is full; its markup is printed as written.
    assert '纸质问卷转录错误：纸质问卷<b>第3题</b>选了4&"已核对"' in plain


def test_nothing_about_treatment_allocation_is_printed(
    app_ctx: Flask, seal_record: SealRecord, pipeline: RenderAndSign
) -> None:
    for language in ("zh_Hans", "en"):
        plain = pdftotext(_pdf(pipeline, seal_record(language=language))).lower()
        for word in (
            "arm",
            "placebo",
            "saline",
            "albumin",
            "allocation",
            "randomi",
            "安慰剂",
            "分组",
            "组别",
        ):
            assert not re.search(rf"\b{word}\b" if word.isascii() else word, plain), word


def test_one_subset_font_face_and_under_150_kb(
    app_ctx: Flask, seal_record: SealRecord, pipeline: RenderAndSign
) -> None:
    for language in ("zh_Hans", "en"):
        data = _pdf(pipeline, seal_record(language=language))
        fonts = embedded_fonts(data)
        assert len(fonts) == 1 and re.fullmatch(r"[A-Z]{6}\+PRIME-PRO-Sans-SC", fonts[0]), fonts
        assert len(data) < SIZE_LIMIT, f"{language}: {len(data)} bytes"
        assert page_count(data) == 2


def test_signed_file_stays_pdfa_3b_and_carries_the_record(
    app_ctx: Flask, seal_record: SealRecord, pipeline: RenderAndSign
) -> None:
    record = seal_record(language="zh_Hans")
    reader = PdfReader(io.BytesIO(_pdf(pipeline, record)))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert re.search(r'pdfaid:part(="|>)3', xmp) and re.search(r'pdfaid:conformance(="|>)B', xmp)
    assert "/OutputIntents" in reader.trailer["/Root"]
    # PDF/A: the (last) trailer carries a file identifier, two 16-byte strings.
    first, second = (string_bytes(part) for part in reader.trailer["/ID"])
    assert len(first) == 16 and len(second) == 16
    # PDF/A: an Info entry must equal its XMP twin. Signing rewrites XMP's Producer, so the Info
    # dictionary must not carry one of its own.
    info = reader.trailer["/Info"].get_object()
    twins = {
        "/Producer": "pdf:Producer",
        "/Creator": "xmp:CreatorTool",
        "/Keywords": "pdf:Keywords",
    }
    for key, prop in twins.items():
        match = re.search(rf'{prop}="([^"]*)"', xmp)
        assert match and info[key] == match.group(1), (key, info.get(key))
    assert "PRIME-PRO" in info["/Creator"]
    attachments = reader.attachments
    assert list(attachments) == ["record.json"]
    attached = attachments["record.json"][0]
    assert hashlib.sha256(attached).hexdigest() == record.record_sha256
    # The signature widget prints and is not hidden (PDF/A forbids hidden annotations).
    for page in reader.pages:
        for annotation in page.get("/Annots", []):
            flags = int(annotation.get_object().get("/F", 0))
            assert flags & 4 and not flags & 2


def test_a_character_in_no_font_fails_the_render_instead_of_printing_a_box(
    app_ctx: Flask, seal_record: SealRecord, pipeline: RenderAndSign
) -> None:
    doc = pipeline.prepare(seal_record())
    unprintable = dataclasses.replace(doc, site_name=Line("研究中心 \U000f0000 私用区字符", "Site"))
    with pytest.raises(RenderError, match=r"\.notdef|fell back"):
        pipeline.renderer.render(unprintable)


def test_a_rare_character_outside_the_subset_falls_back_to_the_full_system_face(
    app_ctx: Flask, seal_record: SealRecord, pipeline: RenderAndSign
) -> None:
    doc = pipeline.prepare(seal_record())
    rare = dataclasses.replace(doc, site_name=Line("龘研究中心", "Site"))  # 龘 is not in GB 2312
    data = pipeline.renderer.render(rare)
    assert "龘研究中心" in squeeze(pdftotext(data))
    assert len(embedded_fonts(data)) == 2


def test_the_renderer_fetches_nothing_outside_the_pdf_asset_folder(
    app_ctx: Flask, pipeline: RenderAndSign, tmp_path: object
) -> None:
    fetcher = pipeline.renderer.fetcher
    assert isinstance(fetcher, LocalAssetFetcher)
    assert fetcher("file://" + str(fetcher.root / "record.css")).read().startswith(b"/*")
    for url in (
        "http://127.0.0.1:9/x.png",
        "https://example.org/logo.png",
        "file:///etc/passwd",
        "file://" + str(fetcher.root / ".." / "render.py"),
        "data:text/css,body{}",
    ):
        with pytest.raises(AssetRefused):
            fetcher(url)
    html = '<html lang="en"><body><img src="http://127.0.0.1:9/tracker.png">x</body></html>'
    with pytest.raises(AssetRefused, match=r"tracker\.png"):
        pipeline.renderer.pdf_from_html(html)


def test_a_record_altered_in_the_database_is_never_certified(
    app_ctx: Flask, seal_record: SealRecord, pipeline: RenderAndSign
) -> None:
    record = seal_record(language="zh_Hans")
    with as_database_owner():
        db.session.execute(
            text("UPDATE response SET answers = :answers WHERE id = :id"),
            {"answers": '{"mlhf01": 5}', "id": record.id},
        )
    db.session.expire_all()
    with pytest.raises(RecordAltered):
        record_document(
            db.session.get(type(record), record.id), pipeline.catalog, pipeline.key.info
        )


def test_every_pdf_label_is_translated_for_staff(app_ctx: Flask) -> None:
    from pro_app.pdf.labels import labels

    chinese = labels("zh_Hans")
    english = labels("en")
    for key, line in chinese.items():
        assert line.en == english[key].text, key
        assert line.text != line.en and re.search(r"[\u4e00-\u9fff]", line.text), key


def test_an_imputed_score_says_so(
    app_ctx: Flask, seal_record: SealRecord, pipeline: RenderAndSign
) -> None:
    """A scoring plan may switch to mean imputation (instrument data): the PDF must say which
    score was imputed, from how many blanks."""
    answers: list[int | None] = [2] * 21
    answers[20] = None
    record = seal_record(answers)
    doc = pipeline.prepare(record)
    imputed = {"value": 10.0, "missing": 1, "imputed": True}
    scores = {**record.scores, "emotional": imputed}
    section = choice_section(
        pipeline.catalog.instrument("mlhfq"),
        _Plain.of(record, scores=scores),  # type: ignore[arg-type]
        pipeline.catalog,
        True,
    )
    plain = squeeze(pdftotext(pipeline.renderer.render(dataclasses.replace(doc, section=section))))
    assert "情绪维度100–2517–21" in plain
    assert "1个未回答条目已用已回答条目的均值填补。" in plain


@dataclasses.dataclass
class _Plain:
    """The fields of a sealed record a section builder reads, as a plain object."""

    answers: dict[str, object]
    item_languages: dict[str, str]
    scores: dict[str, object]
    language: str
    scoring_version: str
    textpack_id: str
    supersedes: object | None

    @classmethod
    def of(cls, record: object, **changes: object) -> _Plain:
        fields = {f.name: getattr(record, f.name) for f in dataclasses.fields(cls)}
        return cls(**{**fields, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize("start", [b"\xfe\xff", b"\xff\xfe", b"\xef\xbb\xbf", b""])
def test_a_file_identifier_is_read_as_the_bytes_written(start: bytes) -> None:
    # A random identifier starting like a byte-order mark once failed the PDF/A test above.
    written = (start + bytes(range(0x41, 0x51)))[:16]
    assert string_bytes(create_string_object(written)) == written
