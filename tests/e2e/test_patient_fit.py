"""The patient's phone as a new user meets it: every question fits the screen with wording as long
as the licensed MLHFQ, large text and zoom never scroll sideways, nothing tapped is dropped, the
6MWT is the clinic's, error pages offer a phone number, and the question can be read aloud."""

from __future__ import annotations

import dataclasses
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import func, select
from werkzeug.serving import make_server

from pro_app import create_app
from pro_app.extensions import db
from pro_app.models import Role, VisitLink
from tests.conftest import make_settings
from tests.e2e.conftest import (
    line_counts,
    lines_starting_with_closing_punctuation,
    lone_last_lines,
    screenshot,
    words_cut_in_two,
)
from tests.e2e.longpacks import CHINESE_ANCHORS, ENGLISH_ANCHORS, write_long_packs
from tests.factories import STAFF_PASSWORD, issue_token, make_participant, make_staff

ITEMS = 21
LANGUAGES = {"zh_Hans": ("zh-Hans", "开始填写", "下一题"), "en": ("en", "Start", "Next")}


@pytest.fixture(scope="module")
def long_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """An app whose MLHFQ text packs are as long as the licensed wording."""
    instance = tmp_path_factory.mktemp("e2e-long")
    write_long_packs(instance / "textpacks")
    yield from _migrated_app(instance)


def _migrated_app(instance: Path) -> Iterator[Flask]:
    """An app on a new database in `instance`, with the text packs in its textpacks folder."""
    settings = make_settings(f"sqlite:///{instance / 'app.sqlite3'}", instance)
    app = create_app({"TESTING": True}, settings=settings)
    with app.app_context():
        flask_migrate.upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


def _serve(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["PRO_SETTINGS"] = dataclasses.replace(
        app.config["PRO_SETTINGS"], base_url=f"http://127.0.0.1:{server.port}"
    )
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def long_server(long_app: Flask) -> Iterator[str]:
    yield from _serve(long_app)


_counter = iter(range(500, 999))


def new_link(app: Flask, language: str = "zh_Hans") -> tuple[str, str]:
    """(study id, link path) of a freshly enrolled participant whose baseline is open today."""
    study_id = f"PRIME-{next(_counter)}"
    with app.app_context():
        token = issue_token(make_participant(study_id, language=language))
        db.session.commit()
    return study_id, f"/s/{token}"


def phone_context(
    browser: Browser,
    width: int = 360,
    height: int = 740,
    scale: float = 2,
    javascript: bool = True,
) -> BrowserContext:
    return browser.new_context(
        viewport={"width": width, "height": height},
        device_scale_factor=scale,
        is_mobile=True,
        has_touch=True,
        java_script_enabled=javascript,
    )


def text_size(page: Page, percent: float) -> None:
    """The phone's text-size setting (Android, WeChat): the browser's default font size."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Page.setFontSizes", {"fontSizes": {"standard": round(16 * percent / 100)}})


def start(page: Page, base: str, link: str, language: str) -> None:
    page.goto(base + link)
    page.get_by_role("button", name=LANGUAGES[language][1]).click()
    page.wait_for_url(re.compile(r"/visit/mlhfq$"))


_FIT = """() => {
  const bottom = (el) => el.getBoundingClientRect().bottom;
  const next = document.querySelector('button[value=next]');
  const parts = [document.querySelector('.progress-line'), document.querySelector('h1'),
                 ...document.querySelectorAll('label.choice'), next];
  return {
    h1: document.querySelectorAll('h1').length,
    choices: document.querySelectorAll('label.choice').length,
    lowest: Math.max(...parts.map(bottom)),
    highest: Math.min(...parts.map((el) => el.getBoundingClientRect().top)),
    height: window.innerHeight,
    scrolled: window.scrollY,
  };
}"""


@pytest.mark.parametrize("height", [740, 640])
@pytest.mark.parametrize("language", ["zh_Hans", "en"])
def test_every_question_fits_the_screen_with_licensed_length_wording(
    browser: Browser, long_server: str, long_app: Flask, language: str, height: int
) -> None:
    context = phone_context(browser, height=height)
    page = context.new_page()
    _study, link = new_link(long_app, language)
    start(page, long_server, link, language)
    for number in range(1, ITEMS + 1):
        page.goto(f"{long_server}/visit/mlhfq/q/{number}")
        found: dict[str, Any] = page.evaluate(_FIT)
        assert found["h1"] == 1 and found["choices"] == 6, (number, found)
        assert found["scrolled"] == 0 and found["highest"] >= 0, (number, found)
        assert found["lowest"] <= found["height"], f"item {number}: {found}"
        if number in (1, 3) and height == 740:
            screenshot(page, f"fit-{language}-{height}-item{number}")
    context.close()


PAGES = ("landing", "intro", "item", "review", "visit", "unknown link")


def _visit_pages(page: Page, base: str, link: str, language: str) -> Iterator[str]:
    page.goto(base + link)
    yield "landing"
    page.get_by_role("button", name=LANGUAGES[language][1]).click()
    page.wait_for_url(re.compile(r"/visit/mlhfq$"))
    yield "intro"
    page.goto(base + "/visit/mlhfq/q/7?from=review")
    yield "item"
    page.goto(base + "/visit/mlhfq/review")
    yield "review"
    page.goto(base + "/visit")
    yield "visit"
    page.goto(base + "/s/NO-SUCH-LINK")
    yield "unknown link"
    page.goto(base + "/")
    yield "home"


# A mobile browser widens the layout viewport to fit wide content, so compare with the screen.
_SIDEWAYS = """() => {
  const screenWidth = Math.min(window.innerWidth, screen.width);
  const wide = document.documentElement.scrollWidth > screenWidth;
  const over = [];
  for (const el of document.querySelectorAll('header *, main *')) {
    const box = el.getBoundingClientRect();
    if (box.width && (box.right > screenWidth + 0.5 || box.left < -0.5)) {
      over.push(el.tagName + '.' + el.className + ' ' + Math.round(box.right));
    }
  }
  const brand = document.querySelector('.brand');
  const style = getComputedStyle(brand);
  return {wide, over: over.slice(0, 5), breaks: style.overflowWrap + ' ' + style.wordBreak};
}"""


@pytest.mark.parametrize(
    ("name", "width", "height", "scale", "text"),
    [
        ("320px", 320, 640, 2, 100),
        ("zoom200", 180, 370, 4, 100),
        ("text130", 360, 740, 2, 130),
        ("text150", 360, 740, 2, 150),
    ],
)
@pytest.mark.parametrize("language", ["zh_Hans", "en"])
def test_no_page_scrolls_sideways_with_large_text_zoom_or_a_narrow_screen(
    browser: Browser,
    long_server: str,
    long_app: Flask,
    language: str,
    name: str,
    width: int,
    height: int,
    scale: float,
    text: int,
) -> None:
    context = phone_context(browser, width, height, scale)
    page = context.new_page()
    if text != 100:
        text_size(page, text)
    _study, link = new_link(long_app, language)
    for shown in _visit_pages(page, long_server, link, language):
        page.wait_for_load_state("load")
        found = page.evaluate(_SIDEWAYS)
        assert not found["wide"] and found["over"] == [], (name, shown, found)
        assert found["breaks"] == "normal normal", (name, shown, found)
        assert lines_starting_with_closing_punctuation(page) == [], (name, shown)
        assert words_cut_in_two(page) == [], (name, shown)
        # No paragraph ends with one character alone (without `text-wrap: pretty`, 14 did).
        assert lone_last_lines(page) == [], (name, shown)
        if shown in ("landing", "visit") and name != "zoom200":
            # The dates to fill in between read whole: "25 / Nov 2026" and "11月11 / 日" broke.
            # (At 200% zoom a date is wider than the line, and wraps rather than stick out.)
            days = line_counts(page, ".window .nowrap")
            assert [lines for _day, lines in days] == [1, 1], (name, shown, days)
        if shown == "item" and (language == "zh_Hans" or name != "zoom200"):
            # An answer's words on one line: at 150% "Very much" broke beside an empty half
            # row, and at 200% zoom "非常 / 多" (English there has a line of two words at most).
            anchors = line_counts(page, "label.choice .choice-label")
            assert [lines for _words, lines in anchors] == [1, 1, 1], (name, shown, anchors)
        if text == 150 or name in ("320px", "zoom200"):
            screenshot(page, f"large-{name}-{language}-{shown.replace(' ', '-')}")
    context.close()


_REVIEW_ROWS = """() => [...document.querySelectorAll('.review-row a')].map((row) => {
  const text = row.querySelector('.review-text');
  return {
    clipped: text.scrollHeight > text.clientHeight + 1,
    share: text.getBoundingClientRect().width / row.getBoundingClientRect().width,
    answer: row.querySelector('.review-answer').textContent.trim(),
  };
})"""


@pytest.mark.parametrize("text", [100, 150])
@pytest.mark.parametrize("language", ["zh_Hans", "en"])
def test_the_review_shows_each_questions_whole_wording_with_its_answer(
    browser: Browser, long_server: str, long_app: Flask, language: str, text: int
) -> None:
    """Every answer the one with the longest words (0, "Not at all"), every question as long as
    the licensed wording: no question is cut short, nor squeezed beside its answer."""
    context = phone_context(browser)
    page = context.new_page()
    if text != 100:
        text_size(page, text)
    _study, link = new_link(long_app, language)
    start(page, long_server, link, language)
    for number in range(1, ITEMS + 1):
        page.goto(f"{long_server}/visit/mlhfq/q/{number}")
        page.locator("label.choice").first.click()
        page.get_by_role("button", name=LANGUAGES[language][2]).click()
        page.wait_for_url(re.compile(rf"/q/{number + 1}$|/review$"))
    page.goto(long_server + "/visit/mlhfq/review")
    rows = page.evaluate(_REVIEW_ROWS)
    assert len(rows) == ITEMS
    for number, row in enumerate(rows, 1):
        assert not row["clipped"], (number, row)
        assert row["share"] >= 0.6, (number, row)
        assert row["answer"].startswith("0 · "), (number, row)
    screenshot(page, f"review-{language}-text{text}")
    context.close()


@pytest.fixture(scope="module")
def few_words_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """Packs with words on fewer numbers: English on 0 and 5 only (1 to 4 bare), Chinese on none
    (0 to 5 bare)."""
    instance = tmp_path_factory.mktemp("e2e-few-words")
    packs = write_long_packs(instance / "textpacks")
    for name, anchors in (
        ("mlhfq.en.toml", f'0 = "{ENGLISH_ANCHORS[0]}"\n5 = "{ENGLISH_ANCHORS[2]}"\n'),
        ("mlhfq.zh_Hans.toml", ""),
    ):
        text = (packs / name).read_text(encoding="utf-8")
        (packs / name).write_text(
            re.sub(r"(?s)\[anchors\]\n.*?\n\n", f"[anchors]\n{anchors}\n", text), encoding="utf-8"
        )
    yield from _migrated_app(instance)


@pytest.fixture(scope="module")
def few_words_server(few_words_app: Flask) -> Iterator[str]:
    yield from _serve(few_words_app)


# Each run of bare numbers: how many tiles share each row (top to bottom), and what is wrong with
# a tile: smaller than a 48px target, or its tick or number outside it.
_BARE_ROWS = """() => [...document.querySelectorAll('.choice-group.bare')].map((group) => {
  const rows = new Map();
  const problems = [];
  const numbers = [];
  for (const tile of group.querySelectorAll('label.choice')) {
    const box = tile.getBoundingClientRect();
    const number = tile.querySelector('.choice-number');
    numbers.push(number.textContent.trim());
    rows.set(Math.round(box.top), (rows.get(Math.round(box.top)) || 0) + 1);
    if (box.width < 48 || box.height < 48) problems.push('small ' + numbers.at(-1));
    const range = document.createRange();
    range.selectNodeContents(number);
    const parts = [tile.querySelector('.tick-box').getBoundingClientRect(),
                   ...range.getClientRects()];
    if (parts.some((part) => part.left < box.left || part.right > box.right)) {
      problems.push('spills ' + numbers.at(-1));
    }
  }
  return {numbers, rows: [...rows.values()], problems,
          wide: document.documentElement.scrollWidth > window.innerWidth};
})"""


@pytest.mark.parametrize("packs", ["licensed-length", "fewer-words"])
@pytest.mark.parametrize(("width", "height"), [(360, 740), (320, 640)])
@pytest.mark.parametrize("text", [100, 150])
@pytest.mark.parametrize("language", ["zh_Hans", "en"])
def test_bare_numbers_wrap_into_even_rows_never_one_alone(
    request: pytest.FixtureRequest,
    browser: Browser,
    language: str,
    text: int,
    width: int,
    height: int,
    packs: str,
) -> None:
    """At 150% text 2 3 4 wrapped to 2 3 / 4, a number alone on its row: the bare numbers share
    their rows evenly (3, 2+2, 3+3, 2+2+2) or, where even two do not fit, take a row each."""
    if packs == "licensed-length":
        app, base = request.getfixturevalue("long_app"), request.getfixturevalue("long_server")
    else:
        app, base = (
            request.getfixturevalue("few_words_app"),
            request.getfixturevalue("few_words_server"),
        )
    context = phone_context(browser, width, height)
    page = context.new_page()
    if text != 100:
        text_size(page, text)
    _study, link = new_link(app, language)
    start(page, base, link, language)
    for number in (2, 3):
        page.goto(f"{base}/visit/mlhfq/q/{number}")
        (group,) = page.evaluate(_BARE_ROWS)
        rows = group["rows"]
        assert not group["wide"] and group["problems"] == [], group
        assert max(rows) - min(rows) <= 1 and (min(rows) > 1 or max(rows) == 1), group
    context.close()


def test_the_language_picked_on_the_landing_page_survives_start(
    browser: Browser, long_server: str, long_app: Flask
) -> None:
    context = phone_context(browser)
    page = context.new_page()
    _study, link = new_link(long_app, "zh_Hans")
    page.goto(long_server + link)
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    page.get_by_role("link", name="English").click()
    page.get_by_role("button", name="Start").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("link", name="Start").click()
    expect(page.get_by_text("Question 1 of 21")).to_be_visible()
    context.close()


def test_a_tapped_answer_is_saved_at_once_and_survives_a_reload(
    browser: Browser, long_server: str, long_app: Flask
) -> None:
    context = phone_context(browser)
    page = context.new_page()
    _study, link = new_link(long_app, "en")
    start(page, long_server, link, "en")
    page.goto(long_server + "/visit/mlhfq/q/4")
    status = page.locator(".save-state")
    expect(status).to_have_text("Your answer is saved when you tap “Next”.")
    with page.expect_response(lambda r: r.request.method == "POST") as saved:
        page.locator("label.choice", has_text="3").click()
    assert saved.value.json() == {"ok": True, "saved": 3}
    expect(status).to_have_text("✓ Saved")
    # One answer of six is marked as a radio button is, round: a square box reads as "tick all
    # that apply" (the walk log's choices are round too).
    marks = page.locator(".choice .tick-box").evaluate_all(
        "(boxes) => boxes.map((box) => getComputedStyle(box).borderRadius)"
    )
    assert marks and set(marks) == {"50%"}, marks
    assert page.locator("input[name=answer]").evaluate_all(
        "(inputs) => inputs.map((input) => input.type)"
    ) == ["radio"] * len(marks)
    screenshot(page, "en-item-saved")
    page.reload()
    expect(page.locator("input[name=answer][value='3']")).to_be_checked()
    expect(status).to_have_text("✓ Saved")
    # A different answer is "saved" only once the server has it: offline, it says so.
    context.set_offline(True)
    page.locator("label.choice", has_text="5").click()
    expect(status).to_have_text("Not saved yet. Please tap “Next”.")
    context.set_offline(False)
    context.close()


def test_tapping_an_answer_takes_away_the_please_choose_message(
    browser: Browser, long_server: str, long_app: Flask
) -> None:
    context = phone_context(browser)
    page = context.new_page()
    _study, link = new_link(long_app, "en")
    start(page, long_server, link, "en")
    page.goto(long_server + "/visit/mlhfq/q/2")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator("fieldset")).to_have_attribute("aria-invalid", "true")
    with page.expect_response(lambda r: r.request.method == "POST"):
        page.locator("label.choice", has_text="2").click()
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.locator("fieldset")).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("fieldset")).not_to_have_attribute("aria-describedby", "answer-error")
    expect(page.locator(".save-state")).to_have_text("✓ Saved")
    context.close()


def test_without_javascript_the_page_says_next_saves(
    browser: Browser, long_server: str, long_app: Flask
) -> None:
    context = phone_context(browser, javascript=False)
    page = context.new_page()
    _study, link = new_link(long_app, "zh_Hans")
    start(page, long_server, link, "zh_Hans")
    page.goto(long_server + "/visit/mlhfq/q/1")
    expect(page.locator(".save-state")).to_have_text("点“下一题”时会保存您的回答。")
    expect(page.locator("[data-read-aloud]")).to_be_hidden()
    page.locator("label.choice", has_text="2").first.click()
    page.get_by_role("button", name="下一题").click()
    page.goto(long_server + "/visit/mlhfq/q/1")
    expect(page.locator("input[name=answer][value='2']")).to_be_checked()
    context.close()


def test_the_walk_test_cannot_be_started_from_the_patient_link(
    browser: Browser, long_server: str, long_app: Flask
) -> None:
    context = phone_context(browser)
    page = context.new_page()
    _study, link = new_link(long_app, "zh_Hans")
    page.goto(long_server + link)
    expect(page.locator(".at-clinic")).to_contain_text("在医院由研究护士陪同完成")
    page.get_by_role("button", name="开始填写").click()
    page.goto(long_server + "/visit")
    walk = page.locator(".instrument-row", has_text="6分钟步行试验")
    expect(walk.locator(".at-clinic")).to_be_visible()
    expect(walk.locator("a")).to_have_count(0)
    screenshot(page, "zh-visit-walk-at-clinic")
    refused = page.goto(long_server + "/visit/sixmwt/part/before")
    assert refused is not None and refused.status == 403
    expect(page.locator("h1").first).to_have_text("在医院完成")
    expect(page.locator("a[href^='tel:']").first).to_be_visible()
    context.close()


@pytest.mark.parametrize("language", ["zh_Hans", "en"])
def test_error_pages_offer_a_tap_to_call_number(
    browser: Browser, long_server: str, long_app: Flask, language: str
) -> None:
    context = phone_context(browser)
    page = context.new_page()
    new_link(long_app)  # the site exists
    response = page.goto(f"{long_server}/s/NO-SUCH-LINK?lang={language}")
    assert response is not None and response.status == 404
    calls = page.locator("a[href='tel:+862100000000']")
    expect(calls).to_have_count(2)
    box = calls.first.bounding_box()
    assert box is not None and box["height"] >= 48
    screenshot(page, f"{language}-error-unknown-link")
    context.close()


@pytest.mark.parametrize(
    ("width", "height", "scale", "whole"), [(320, 640, 2, True), (180, 370, 4, False)]
)
@pytest.mark.parametrize("language", ["zh_Hans", "en"])
def test_the_number_to_call_moves_to_the_next_line_whole(
    browser: Browser,
    long_server: str,
    long_app: Flask,
    language: str,
    width: int,
    height: int,
    scale: float,
    whole: bool,
) -> None:
    """On a 320px phone the call button broke +86 21 0000 0000 after 0000 (the number was a few
    pixels wider than the button's inside): it goes under the words, whole. At 200% zoom (180px),
    narrower than the number, it may break at its spaces, but nothing scrolls sideways."""
    context = phone_context(browser, width, height, scale)
    page = context.new_page()
    new_link(long_app)  # the site exists
    page.goto(f"{long_server}/s/NO-SUCH-LINK?lang={language}")
    numbers = line_counts(page, 'a[href^="tel:"] .phone, .number')
    assert "+86 21 0000 0000" in [number for number, _lines in numbers], numbers
    if whole:
        assert all(lines == 1 for _number, lines in numbers), numbers
    found = page.evaluate(_SIDEWAYS)
    assert not found["wide"] and found["over"] == [], found
    box = page.locator("a[href^='tel:']").first.bounding_box()
    assert box is not None and box["height"] >= 48
    context.close()


FAKE_VOICES = """
window.__spoken = [];
const voices = %s;
Object.defineProperty(window, 'speechSynthesis', {configurable: true, value: {
  getVoices: () => voices,
  speak: (u) => window.__spoken.push([u.text, u.lang, u.voice && u.voice.lang]),
  cancel: () => {},
  addEventListener: () => {},
}});
window.SpeechSynthesisUtterance = function (text) { this.text = text; };
"""


@pytest.mark.parametrize(
    ("voices", "language", "shown"),
    [
        ('[{"lang": "zh-CN", "name": "Tingting"}]', "zh_Hans", True),
        ('[{"lang": "en-GB", "name": "Daniel"}]', "en", True),
        ('[{"lang": "en-GB", "name": "Daniel"}]', "zh_Hans", False),
        ("[]", "en", False),
    ],
)
def test_read_aloud_uses_a_voice_of_the_page_language_or_is_hidden(
    browser: Browser, long_server: str, long_app: Flask, voices: str, language: str, shown: bool
) -> None:
    context = phone_context(browser)
    page = context.new_page()
    page.add_init_script(FAKE_VOICES % voices)
    _study, link = new_link(long_app, language)
    start(page, long_server, link, language)
    page.goto(long_server + "/visit/mlhfq/q/2")
    button = page.locator("[data-read-aloud]")
    if not shown:
        page.wait_for_timeout(1700)  # the page waits up to 1.5 s for voices to load
        expect(button).to_be_hidden()
        context.close()
        return
    expect(button).to_be_visible()
    button.click()
    spoken = page.evaluate("window.__spoken")
    question = page.locator("h1").inner_text()
    assert len(spoken) == 1 and question in spoken[0][0]
    assert spoken[0][1] == ("zh-CN" if language == "zh_Hans" else "en")
    assert (CHINESE_ANCHORS if language == "zh_Hans" else ENGLISH_ANCHORS)[2] in spoken[0][0]
    context.close()


def test_a_reload_after_reissue_does_not_make_another_link(
    browser: Browser, long_server: str, long_app: Flask
) -> None:
    with long_app.app_context():
        participant = make_participant(f"PRIME-{next(_counter)}")
        make_staff("fit-desk", Role.COORDINATOR, [participant.site], language="en")
        issue_token(participant)
        db.session.commit()
        participant_id, visit_id = participant.id, participant.visits[0].id
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    page = context.new_page()
    page.goto(long_server + "/staff/login")
    page.locator("#username").fill("fit-desk")
    page.locator("#password").fill(STAFF_PASSWORD)
    page.locator("form button[type=submit]").click()
    page.goto(f"{long_server}/desk/participants/{participant_id}")
    form = page.locator(f"form[action='/desk/visits/{visit_id}/link/reissue']")
    form.locator("xpath=..").locator("summary").click()
    form.locator("textarea").fill("phone lost")
    form.locator("button[type=submit]").click()
    shown = page.locator("#link-url").input_value()
    assert re.search(r"/s/([0-9A-HJKMNP-TV-Z]{4}-){6}[0-9A-HJKMNP-TV-Z]{4}$", shown)

    def count() -> int:
        with long_app.app_context():
            return int(db.session.scalar(select(func.count()).select_from(VisitLink)) or 0)

    before = count()
    page.reload()
    page.wait_for_url(re.compile(rf"/desk/participants/{participant_id}"))
    assert count() == before
    assert page.locator("#link-url").count() == 0
    # The link shown once still works.
    patient = browser.new_context()
    assert patient.new_page().goto(shown).status == 200  # type: ignore[union-attr]
    patient.close()
    context.close()


def test_long_test_packs_exist() -> None:
    """The test pack really is as long as the licensed wording (guards the fit test above)."""
    from tests.e2e import longpacks

    assert len(longpacks.ENGLISH_LONGEST) >= 110 and len(longpacks.CHINESE_LONGEST) >= 25
    assert len(longpacks.ENGLISH_STEM) >= 85
    assert shutil.which("chromium")
