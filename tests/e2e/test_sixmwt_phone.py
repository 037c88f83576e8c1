"""The 6MWT log and walk timer on a 360x740 phone: by hand, with the timer on a faked clock,
offline, without JavaScript, in both languages."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import count, pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from pro_app.extensions import db
from pro_app.models import DraftAnswer, Participant, Response, Visit
from pro_app.questionnaire.catalog import catalog
from pro_app.services import worksheet_entry
from tests.e2e.conftest import (
    PHONE,
    line_counts,
    lines_starting_with_closing_punctuation,
    lone_last_lines,
    screenshot,
    text_lines,
    words_cut_in_two,
)
from tests.e2e.test_patient_fit import phone_context, text_size
from tests.e2e.test_patient_phone import assert_readable
from tests.factories import STAFF_PASSWORD, TODAY, make_participant, make_staff

# Study numbers for the tests that enrol one participant per run (the server is shared).
_study_numbers = count(340)
# The browser's faked clock starts where the server's frozen one is: 10:00 in Shanghai.
START = datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
# Records what the page asks the browser to say aloud (headless Chromium has no voices).
RECORD_SPEECH = """
window.__spoken = [];
if (window.speechSynthesis) {
  window.speechSynthesis.speak = (u) => window.__spoken.push([u.text, u.lang]);
  window.speechSynthesis.cancel = () => {};
}
window.__wake = [];
Object.defineProperty(navigator, "wakeLock", {configurable: true, value: {request: (type) => {
  window.__wake.push(type);
  return Promise.resolve({
    release: () => { window.__wake.push("released"); return Promise.resolve(); },
    addEventListener: () => {},
  });
}}});
"""


def enter_as_nurse(
    page: Page, base: str, app: Flask, study_id: str, language: str = "zh_Hans"
) -> None:
    """The 6MWT log is the assessor's: a study nurse signs in on this phone, starts staff entry
    for a participant whose Day 7 visit (the 6MWT only) is open today, and opens the log."""
    with app.app_context():
        participant = make_participant(study_id, language=language, day0=TODAY - timedelta(days=7))
        make_staff(f"nurse-{study_id.lower()}", sites=[participant.site])
        visit_id = next(v.id for v in participant.visits if v.code == "d7")
        participant_id = participant.id
        db.session.commit()
    page.goto(base + "/staff/login")
    page.locator("#username").fill(f"nurse-{study_id.lower()}")
    page.locator("#password").fill(STAFF_PASSWORD)
    page.locator("form button[type=submit]").click()
    page.goto(base + f"/desk/participants/{participant_id}")
    entry = page.locator(f"form[action='/desk/visits/{visit_id}/staff-entry']")
    entry.locator("xpath=..").locator("summary").click()
    # The reason is the nurse's own words, written in the language of the screens here.
    reason = "门诊做6分钟步行试验" if language == "zh_Hans" else "6MWT at the clinic"
    entry.locator("textarea").fill(reason)
    entry.locator(f"input[name=language][value={language}]").check()
    entry.locator("button[type=submit]").click()
    page.wait_for_url(base + "/visit")
    page.get_by_role("link", name="开始填写" if language == "zh_Hans" else "Start").click()


def drafts(app: Flask, study_id: str) -> dict[str, object]:
    with app.app_context():
        rows = db.session.scalars(
            select(DraftAnswer)
            .join(Visit, DraftAnswer.visit_id == Visit.id)
            .join(Participant, Visit.participant_id == Participant.id)
            .where(Participant.study_id == study_id)
        )
        return {row.item_id: row.value for row in rows}


def sealed(app: Flask, study_id: str) -> Response:
    with app.app_context():
        record = db.session.scalars(
            select(Response)
            .join(Visit, Response.visit_id == Visit.id)
            .join(Participant, Visit.participant_id == Participant.id)
            .where(Participant.study_id == study_id)
        ).one()
        db.session.expunge(record)
        return record


def type_walk_part_elsewhere(app: Flask, study_id: str) -> None:
    with app.app_context():
        participant = db.session.scalars(
            select(Participant).where(Participant.study_id == study_id)
        ).one()
        visit = next(v for v in participant.visits if v.code == "d7")
        worksheet_entry.save_screen(
            visit,
            catalog().instrument("sixmwt"),
            "walk",
            {"laps": "9", "partial_lap_m": "0", "stopped_early": "no"},
            language="zh_Hans",
            actor=f"participant:{study_id}",
        )
        db.session.commit()


def look(page: Page, name: str) -> None:
    assert_readable(page)
    screenshot(page, f"6mwt-{name}")


def fill_before(page: Page, **changes: str) -> None:
    values = {
        "start_time": "09:30",
        "test_number": "1",
        "course_length_m": "30",
        "lap_length_m": "60",
        "weight_kg": "68.5",
        "resting_sbp": "118",
        "resting_dbp": "72",
        "baseline_hr": "76",
        "baseline_spo2": "96",
        **changes,
    }
    for name, value in values.items():
        page.locator(f"[name={name}]").fill(value)
    for name, value in (
        ("practice_test", "no"),
        ("supplemental_o2", "no"),
        ("assistive_device", "none"),
        ("baseline_dyspnoea", "0.5"),
        ("baseline_fatigue", "1"),
    ):
        page.locator(f"label.choice:has(input[name={name}][value='{value}'])").click()


def fill_after(page: Page) -> None:
    page.locator("[name=end_hr]").fill("104")
    page.locator("[name=end_spo2]").fill("94")
    page.locator("label.choice:has(input[name=end_dyspnoea][value='3'])").click()
    page.locator("label.choice:has(input[name=end_fatigue][value='2.5'])").click()
    page.locator("label.choice:has(input[name=symptoms][value='none'])").click()
    page.locator("[name=assessor]").fill("李护士")


def test_the_log_by_hand_in_chinese(phone: Page, live_server: str, live_app: Flask) -> None:
    enter_as_nurse(phone, live_server, live_app, "PRIME-301")
    expect(phone.get_by_role("heading", name="6分钟步行试验")).to_be_visible()
    look(phone, "zh-02-intro")
    phone.get_by_role("link", name="开始填写").click()
    expect(phone.get_by_role("heading", name="步行前")).to_be_visible()
    assert phone.locator("[name=weight_kg]").get_attribute("inputmode") == "decimal"
    assert phone.locator("[name=baseline_hr]").get_attribute("inputmode") == "numeric"
    expect(phone.locator("#field-o2_flow_l_min")).to_be_hidden()  # no oxygen chosen yet
    phrases = line_counts(phone, ".progress-text .phrase")
    assert [lines for _text, lines in phrases] == [1, 1], phrases  # "共3 / 部分" broke
    look(phone, "zh-03-before")
    fill_before(phone, weight_kg="160")
    phone.locator("label.choice:has(input[name=supplemental_o2][value='yes'])").click()
    expect(phone.locator("#field-o2_flow_l_min")).to_be_visible()
    phone.locator("[name=o2_flow_l_min]").fill("2")
    phone.locator("label.choice:has(input[name=o2_device][value='nasal_cannula'])").click()
    phone.get_by_role("button", name="下一步").click()
    warning = phone.locator("#field-weight_kg .soft-warning")
    expect(warning).to_contain_text("这个数不太常见：通常在35至150 kg之间")
    look(phone, "zh-04-are-you-sure")
    phone.locator("#field-weight_kg label.confirm").click()
    phone.get_by_role("button", name="下一步").click()
    expect(phone.get_by_role("heading", name="步行", exact=True)).to_be_visible()
    phone.locator("[name=laps]").fill("7")
    phone.locator("[name=partial_lap_m]").fill("75")
    phone.locator("label.choice:has(input[name=stopped_early][value='no'])").click()
    phone.get_by_role("button", name="下一步").click()
    expect(phone.locator("#field-partial_lap_m .error")).to_contain_text("必须短于一圈（60米）")
    expect(phone.locator("[name=partial_lap_m]")).to_have_value("75")
    look(phone, "zh-05-walk-refused")
    phone.locator("[name=partial_lap_m]").fill("12")
    phone.get_by_role("button", name="下一步").click()
    expect(phone.get_by_role("heading", name="步行后")).to_be_visible()
    fill_after(phone)
    look(phone, "zh-06-after")
    phone.get_by_role("button", name="下一步").click()
    expect(phone.get_by_role("heading", name="检查您的回答")).to_be_visible()
    expect(phone.locator(".distance")).to_have_text("步行距离：432米")
    look(phone, "zh-07-review")
    phone.get_by_role("link", name="提交").click()
    look(phone, "zh-08-confirm")
    phone.get_by_role("button", name="确定提交").click()
    expect(phone.get_by_role("heading", name="谢谢您！")).to_be_visible()
    look(phone, "zh-09-receipt")
    record = sealed(live_app, "PRIME-301")
    assert record.scores["distance_m"] == 432.0
    assert record.answers["worksheet"]["o2_flow_l_min"] == 2.0
    assert record.answers["confirmed_warnings"] == {"weight_kg:unusual_value": [160.0]}


def test_two_way_choices_keep_their_words_whole_with_large_text(
    phone: Page, live_server: str, live_app: Flask
) -> None:
    """At the phone's 150% text size a yes/no pair stacks rather than break 不是 in two, and a
    Borg scale puts fewer numbers in a row rather than break 0.5 into a column."""
    text_size(phone, 150)
    enter_as_nurse(phone, live_server, live_app, "PRIME-306")
    phone.get_by_role("link", name="开始填写").click()
    expect(phone.get_by_role("heading", name="步行前")).to_be_visible()
    labels = line_counts(phone, ".choices.two .choice-label")
    assert labels and ("不是", 1) in labels, labels
    assert all(lines == 1 for _words, lines in labels), labels
    numbers = line_counts(phone, ".scale-choice .choice-number")
    assert ("0.5", 1) in numbers, numbers
    assert all(lines == 1 for _number, lines in numbers), numbers
    assert_readable(phone)
    screenshot(phone, "6mwt-zh-text150-before")


def _shadow_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for key in ("children", "shadowRoots"):
        for child in node.get(key, []):
            yield from _shadow_nodes(child)


def _attributes(node: dict[str, Any]) -> dict[str, str]:
    flat = node.get("attributes", [])
    return dict(zip(flat[::2], flat[1::2], strict=True))


def date_and_time_shown(page: Page) -> dict[str, tuple[float, float]]:
    """For the date and time inputs: where the browser's own text (11/25/2026, its fields in the
    input's shadow tree, which scripts cannot see) ends, and where the box showing it ends."""
    cdp = page.context.new_cdp_session(page)
    root = cdp.send("DOM.getDocument", {"depth": -1, "pierce": True})["root"]

    def right(node: dict[str, Any]) -> float:
        quad = cdp.send("DOM.getBoxModel", {"nodeId": node["nodeId"]})["model"]["border"]
        return float(max(quad[0::2]))

    shown = {}
    for node in _shadow_nodes(root):
        if node.get("nodeName") == "INPUT" and _attributes(node).get("type") in ("date", "time"):
            parts = {_attributes(n).get("pseudo"): n for n in _shadow_nodes(node)}
            fields = parts["-webkit-datetime-edit-fields-wrapper"]
            shown[_attributes(node)["name"]] = (
                right(fields),
                right(parts["-webkit-datetime-edit"]),
            )
    return shown


@pytest.mark.parametrize(("width", "height"), [(360, 740), (320, 640)])
@pytest.mark.parametrize("text", [150, 187.5])
@pytest.mark.parametrize("language", ["zh_Hans", "en"])
def test_the_whole_date_and_time_show_with_large_text(
    browser: Browser,
    live_server: str,
    live_app: Flask,
    language: str,
    text: float,
    width: int,
    height: int,
) -> None:
    """At the phone's 150% and 187.5% text sizes the date box showed 11/25/202 or 11/25/: the
    year was cut off (and the time's AM at 187.5%). The whole date and time show."""
    context = phone_context(browser, width, height)
    page = context.new_page()
    text_size(page, text)
    enter_as_nurse(page, live_server, live_app, f"PRIME-{next(_study_numbers)}", language)
    page.get_by_role("link", name="开始填写" if language == "zh_Hans" else "Start").click()
    page.locator("[name=start_time]").fill("09:30")
    shown = date_and_time_shown(page)
    assert set(shown) == {"test_date", "start_time"}, shown
    for name, (text_end, box_end) in shown.items():
        assert text_end <= box_end + 0.5, (name, shown)
    # Smaller to fit, but never under the usual text size (20px).
    size = page.locator("[name=test_date]").evaluate("(el) => getComputedStyle(el).fontSize")
    assert float(size.removesuffix("px")) >= 20, size
    assert_readable(page)  # nothing on the page pushes it sideways, at 320px too
    context.close()


# Each number field (and each part of a minutes-and-seconds one): its box, its unit's (if it has
# one), the room its text has and takes, and the screen's width.
_NUMBER_FIELDS = """() => [...document.querySelectorAll('.number-input')].map((input) => {
  const box = input.getBoundingClientRect();
  const unit = input.parentElement.querySelector('.unit');
  const ubox = unit && unit.getBoundingClientRect();
  return {
    name: input.name, left: box.left, right: box.right, top: box.top, bottom: box.bottom,
    unit: ubox && {left: ubox.left, right: ubox.right, top: ubox.top, bottom: ubox.bottom},
    shown: input.clientWidth, needed: input.scrollWidth, screen: screen.width,
  };
})"""
# What reaches past the right of the screen, innermost first (to name what pushes the page).
_PAST_THE_SCREEN = """() => [...document.querySelectorAll('main *')]
  .filter((el) => el.getBoundingClientRect().right > screen.width + 0.5)
  .filter((el) => ![...el.children].some((c) => c.getBoundingClientRect().right > screen.width + 0.5))
  .map((el) => el.outerHTML.slice(0, 100))"""


def widest_values(app: Flask) -> dict[str, str]:
    """The widest value each number field takes: its highest, less a half if it takes decimals."""
    with app.app_context():
        fields = catalog().instrument("sixmwt").fields
    return {
        f.id: f"{f.max - 0.5:.1f}" if f.decimals else f"{f.max:.0f}"
        for f in fields
        if f.type in ("integer", "decimal") and f.max is not None
    }


def number_fields_show_whole(page: Page, where: str) -> None:
    """Each number field on the page holds its value whole and is a large target; its unit is
    beside it or just under it, on the screen."""
    fields = page.evaluate(_NUMBER_FIELDS)
    assert fields, where
    for f in fields:
        box, unit = f, f["unit"]
        assert f["bottom"] - f["top"] >= 48, (where, f)
        assert f["needed"] <= f["shown"], (where, f)  # the typed value shows whole
        if unit is None:  # a count (the test's number) has no unit
            continue
        beside = (
            0 <= unit["left"] - box["right"] <= 24
            and unit["top"] < box["bottom"]
            and unit["bottom"] > box["top"]
        )
        under = 0 <= unit["top"] - box["bottom"] <= 16 and abs(unit["left"] - box["left"]) <= 1
        assert beside or under, (where, f)
        assert unit["right"] <= f["screen"], (where, f)


@pytest.mark.parametrize(("width", "height"), [(360, 740), (320, 740)])
@pytest.mark.parametrize("text", [150, 187.5])
@pytest.mark.parametrize("language", ["zh_Hans", "en"])
def test_no_field_pushes_the_page_sideways_with_large_text(
    browser: Browser,
    live_server: str,
    live_app: Flask,
    language: str,
    text: float,
    width: int,
    height: int,
) -> None:
    """At 320px and 187.5% text "beats/min" beside its field was wider than the line, so the
    whole page scrolled sideways (at 187.5% so did "concentrator" in a choice, and at 150% the
    minutes and seconds side by side); fields beside long units shrank too narrow to show their
    value. On every part of the log, with every field showing (also those that apply only after a
    choice) and the widest values typed in, nothing reaches past the screen; each number field
    holds its value whole and is a large target; its unit is beside it or just under it."""
    context = phone_context(browser, width, height)
    page = context.new_page()
    text_size(page, text)
    enter_as_nurse(page, live_server, live_app, f"PRIME-{next(_study_numbers)}", language)
    widest = widest_values(live_app)
    # The choice that shows each part's fields that apply only after it.
    for part, choice, answer in (
        ("before", "supplemental_o2", "yes"),
        ("walk", "stopped_early", "yes"),
        ("after", "symptoms", "other"),
    ):
        page.goto(live_server + f"/visit/sixmwt/part/{part}")
        page.locator(f"label.choice:has(input[name={choice}][value={answer}])").click()
        for field in page.locator(".duration-part .number-input").all():
            field.fill("59")
        for field in page.locator(".input-unit .number-input").all():
            field.fill(widest[field.get_attribute("name") or ""])
        screenshot(page, f"6mwt-{language}-text{text}-{width}px-{part}")
        assert page.evaluate(_PAST_THE_SCREEN) == [], part
        assert lines_starting_with_closing_punctuation(page) == [], part
        assert lone_last_lines(page) == [], part
        # At 320px with 187.5% text a line holds about ten letters, fewer beside a tick box:
        # there "Medications" (a label) and "Something" (a choice) are wider than their line.
        if width >= 360 or text <= 150:
            assert words_cut_in_two(page) == [], part
        assert_readable(page)
        number_fields_show_whole(page, part)
    context.close()


# Text reaching past the inside of the box it is in (its nearest box that is not inline; inside
# its padding): a word wider than a button, which shows over or past the button's edge.
_STICKING_OUT = """() => {
  const found = [];
  const walker = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    let box = node.parentElement;
    if (!node.textContent.trim() || box.offsetParent === null) continue;
    while (getComputedStyle(box).display === 'inline') box = box.parentElement;
    const style = getComputedStyle(box);
    const edge = box.getBoundingClientRect();
    const left = edge.left + parseFloat(style.borderLeftWidth) + parseFloat(style.paddingLeft);
    const right = edge.right - parseFloat(style.borderRightWidth) - parseFloat(style.paddingRight);
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const r of range.getClientRects()) {
      if (r.left < left - 0.5 || r.right > right + 0.5) {
        found.push(`${node.textContent.trim().slice(0, 30)} in ${box.outerHTML.slice(0, 60)}: ` +
                   `${r.left}-${r.right}, inside ${left}-${right}`);
        break;
      }
    }
  }
  return found;
}"""
# The timer state's phrases (walk-timer.js) wider than the whole line, which may break inside.
_WIDER_THAN_THE_LINE = """(state) => [...state.querySelectorAll('.phrase')].filter((phrase) => {
  phrase.style.whiteSpace = 'nowrap';
  phrase.style.maxWidth = 'none';
  const wide = phrase.getBoundingClientRect().width > state.clientWidth + 0.5;
  phrase.style.whiteSpace = '';
  phrase.style.maxWidth = '';
  return wide;
}).map((phrase) => phrase.textContent)"""


def breaks_inside_a_phrase(page: Page) -> list[str]:
    """Where the timer's state breaks inside a phrase (not after a space or a mark), as the
    characters around the break; a phrase wider than the line may."""
    [(_text, lines)] = text_lines(page, "#timer-state")
    wide = page.locator("#timer-state").evaluate(_WIDER_THAN_THE_LINE)
    return [
        f"{above[-1]} / {line[0]}"
        for (above, _joined), (line, joined) in pairwise(lines)
        if joined
        and above[-1] not in "：:，,。；;"
        and not any(above[-1] + line[0] in phrase for phrase in wide)
    ]


def walk_timer_looks_right(page: Page, name: str) -> None:
    page.wait_for_load_state("load")
    screenshot(page, f"6mwt-timer-{name}")
    assert page.evaluate(_PAST_THE_SCREEN) == [], name
    assert page.evaluate(_STICKING_OUT) == [], name
    assert lines_starting_with_closing_punctuation(page) == [], name
    assert lone_last_lines(page) == [], name
    assert words_cut_in_two(page) == [], name
    assert_readable(page)
    # The timer's state breaks between its phrases: "已提前结束：共步 / 行1:01" broke inside 步行.
    assert breaks_inside_a_phrase(page) == [], name
    # The time left and the laps counted read at a glance: never broken over two lines.
    # So does the study id in the staff bar ("PRIME-" / "363" broke at its hyphen).
    for reading in ("#timer-clock", "#timer-lap-count", ".staff-entry-id"):
        if page.locator(reading).is_visible():
            assert [lines for _text, lines in line_counts(page, reading)] == [1], (name, reading)


@pytest.mark.parametrize(("width", "height"), [(360, 740), (320, 740)])
@pytest.mark.parametrize("text", [150, 187.5])
@pytest.mark.parametrize("language", ["zh_Hans", "en"])
def test_the_walk_timer_fits_with_large_text(
    browser: Browser,
    live_server: str,
    live_app: Flask,
    language: str,
    text: float,
    width: int,
    height: int,
) -> None:
    """The walk timer at 320px and 360px with 150% and 187.5% text: ready, walking (laps counted,
    the patient paused, "End the test early" waiting for its second tap) and ended (the partial
    lap asked for, refused when empty, then the widest value typed in) and in conflict with a walk
    part typed on another phone (asked, then waiting for the second tap), nothing reaches past the
    screen or shows wider than its box; the partial lap field holds its value whole and its
    unit is beside it or just under it."""
    context = phone_context(browser, width, height)
    page = context.new_page()
    page.clock.install(time=START)
    text_size(page, text)
    zh = language == "zh_Hans"
    shot = f"{language}-text{text}-{width}px"
    study_id = f"PRIME-{next(_study_numbers)}"
    enter_as_nurse(page, live_server, live_app, study_id, language)
    page.get_by_role("link", name="开始填写" if zh else "Start").click()
    fill_before(page)
    page.get_by_role("button", name="下一步" if zh else "Next step").click()
    page.get_by_role("link", name="打开步行计时器" if zh else "Open the walk timer").click()
    page.clock.pause_at(START + timedelta(minutes=10))
    expect(page.locator("#timer-clock")).to_have_text("6:00")
    walk_timer_looks_right(page, f"{shot}-ready")
    page.locator("#timer-start").click()
    page.clock.run_for(61_000)
    for _lap in range(12):
        page.locator("#timer-lap").click()
    page.locator("#timer-pause").click()
    page.locator("#timer-end").click()  # its words now ask for a second tap
    expect(page.locator("#timer-lap-distance")).to_contain_text("720")
    walk_timer_looks_right(page, f"{shot}-walking")
    page.locator("#timer-end").click()
    partial = page.locator("#timer-partial")
    expect(partial).to_be_visible()
    expect(page.get_by_role("timer", name="步行时间" if zh else "Time walked")).to_have_text("1:01")
    page.locator("#timer-save").click()
    expect(page.locator("#timer-partial-error")).to_be_visible()
    partial.fill(widest_values(live_app)["partial_lap_m"])
    walk_timer_looks_right(page, f"{shot}-ended")
    assert page.locator(".number-input").count() == 1  # the partial lap, with its unit
    number_fields_show_whole(page, f"{shot}-ended")
    # Meanwhile the walk part was typed on another phone: the timer asks before it replaces it.
    type_walk_part_elsewhere(live_app, study_id)
    page.get_by_role("button", name="保存到记录" if zh else "Save to the log").click()
    replace = page.get_by_role(
        "button", name="用这次计时替换" if zh else "Replace with this timing"
    )
    expect(replace).to_be_visible()
    walk_timer_looks_right(page, f"{shot}-conflict")
    replace.click()
    expect(
        page.get_by_role(
            "button", name="再点一次，替换步行结果" if zh else "Tap again to replace the walk part"
        )
    ).to_be_visible()
    walk_timer_looks_right(page, f"{shot}-conflict-confirm")
    context.close()


def test_the_walk_timer_on_a_faked_clock(phone: Page, live_server: str, live_app: Flask) -> None:
    phone.clock.install(time=START)
    phone.add_init_script(RECORD_SPEECH)
    enter_as_nurse(phone, live_server, live_app, "PRIME-302")
    phone.get_by_role("link", name="开始填写").click()
    fill_before(phone)
    phone.get_by_role("button", name="下一步").click()
    phone.get_by_role("link", name="打开步行计时器").click()
    # From here time moves only when the test says so, to the millisecond.
    phone.clock.pause_at(START + timedelta(minutes=10))
    clock = phone.locator("#timer-clock")
    phrase = phone.locator("#timer-phrase")
    lap = phone.locator("#timer-lap")
    expect(clock).to_have_text("6:00")
    expect(phone.get_by_role("timer", name="剩余时间")).to_have_text("6:00")
    expect(lap).to_be_disabled()
    expect(phrase).to_have_text("受试者起步时，点“开始计时6分钟”。")
    # Its buttons' words on one line each ("提前结 / 束试验" broke in its half of the row).
    for button in ("#timer-pause", "#timer-undo", "#timer-end"):
        assert [lines for _text, lines in line_counts(phone, button)] == [1], button
    look(phone, "zh-10-timer-ready")
    phone.locator("label.choice:has(#timer-speak)").click()
    phone.get_by_role("button", name="开始计时6分钟").click()
    expect(phone.locator("#timer-state")).to_have_text("正在步行")
    assert phone.evaluate("window.__wake") == ["screen"]  # the screen stays awake

    phone.clock.run_for(45_000)
    lap.click()  # 0:45
    phone.clock.run_for(14_500)
    expect(clock).to_have_text("5:01")
    expect(phrase).not_to_contain_text("还有5分钟")
    phone.clock.run_for(500)
    expect(clock).to_have_text("5:00")
    expect(phrase).to_have_text("您做得很好。还有5分钟。")
    look(phone, "zh-11-timer-minute-1")
    phone.clock.run_for(35_000)
    lap.click()  # 1:35
    phone.clock.run_for(25_000)
    expect(phrase).to_have_text("再接再厉，您还有4分钟。")
    phone.clock.run_for(10_000)
    phone.get_by_role("button", name="受试者停下了").click()  # 2:10
    expect(phone.locator("#timer-state")).to_have_text("受试者停下了：计时继续")
    expect(phrase).to_contain_text("靠墙休息")
    look(phone, "zh-12-timer-paused")
    phone.clock.run_for(30_000)
    expect(clock).to_have_text("3:20")  # the clock kept running through the pause
    phone.get_by_role("button", name="受试者继续走了").click()  # 2:40
    phone.clock.run_for(20_000)
    expect(phrase).to_have_text("您做得很好。已经走了一半了。")
    lap.click()  # 3:00
    phone.clock.run_for(45_000)
    lap.click()  # 3:45
    phone.get_by_role("button", name="撤销上一圈").click()
    lap.click()  # 3:45 again: a mis-tap undone
    phone.clock.run_for(15_000)
    expect(phrase).to_have_text("再接再厉，您只剩2分钟了。")
    phone.clock.run_for(45_000)
    lap.click()  # 4:45
    phone.clock.run_for(15_000)
    expect(phrase).to_have_text("您做得很好。只剩1分钟了。")
    phone.clock.run_for(40_000)
    lap.click()  # 5:40
    expect(phone.locator("#timer-lap-count")).to_have_text("6")
    expect(phone.locator("#timer-lap-distance")).to_have_text("6圈 = 360米")
    phone.clock.run_for(5_000)
    expect(phrase).to_contain_text("过一会儿我会请您停下")
    expect(clock).to_have_class("timer-clock warning")
    look(phone, "zh-13-timer-5-45")
    phone.clock.run_for(15_000)
    expect(clock).to_have_text("0:00")
    expect(phone.locator("#timer-clock-label")).to_have_text("剩余时间")  # a full walk: none left
    expect(phrase).to_have_text("停！")
    expect(phone.locator("#timer-state")).to_have_text("已结束")
    expect(lap).to_be_disabled()
    expect(phone.locator("#timer-partial")).to_be_focused()
    assert phone.evaluate("window.__wake") == ["screen", "released"]
    look(phone, "zh-14-timer-partial-lap")
    spoken = phone.evaluate("window.__spoken")
    assert [text for text, _lang in spoken] == [
        "您做得很好。还有5分钟。",
        "再接再厉，您还有4分钟。",
        "如果需要，您可以靠墙休息一下；觉得可以了，就接着走。",
        "您做得很好。已经走了一半了。",
        "再接再厉，您只剩2分钟了。",
        "您做得很好。只剩1分钟了。",
        "过一会儿我会请您停下。听到“停”的时候，请您就地站住，我会走到您身边。",
        "停！",
    ]
    assert {lang for _text, lang in spoken} == {"zh-CN"}

    phone.locator("#timer-partial").fill("12")
    phone.get_by_role("button", name="保存到记录").click()
    expect(phone.get_by_role("heading", name="步行", exact=True)).to_be_visible()
    expect(phone.locator("[name=laps]")).to_have_value("6")
    expect(phone.locator("[name=partial_lap_m]")).to_have_value("12")
    expect(phone.locator("input[name=stopped_early][value=yes]")).to_be_checked()
    expect(phone.locator("[name=stop_time_s_min]")).to_have_value("2")
    expect(phone.locator("[name=stop_time_s_sec]")).to_have_value("10")
    expect(phone.locator(".timer-summary")).to_contain_text("已记录6圈")
    expect(phone.locator(".timer-summary")).to_contain_text("2:10暂停 · 2:40继续走")
    expect(phone.locator(".distance")).to_have_text("步行距离：372米")
    look(phone, "zh-15-walk-from-timer")
    saved = drafts(live_app, "PRIME-302")
    assert (saved["laps"], saved["partial_lap_m"], saved["stopped_early"]) == (6, 12, "yes")
    timer = saved["timer"]
    assert isinstance(timer, dict)
    assert timer["lap_times_s"] == [45, 95, 180, 225, 285, 340]
    assert timer["pauses"] == [[130, 160]] and timer["elapsed_s"] == 360
    assert phone.evaluate("localStorage.length") == 0 or "sent" in str(
        phone.evaluate("Object.values(localStorage)")
    )


def test_the_timer_keeps_its_result_through_a_reload_and_a_dropped_network(
    phone: Page, live_server: str, live_app: Flask
) -> None:
    phone.clock.install(time=START)
    enter_as_nurse(phone, live_server, live_app, "PRIME-303")
    phone.goto(live_server + "/visit/sixmwt/timer")
    phone.clock.pause_at(START + timedelta(minutes=10))
    phone.get_by_role("button", name="开始计时6分钟").click()
    phone.clock.run_for(50_000)
    phone.locator("#timer-lap").click()
    phone.clock.fast_forward(20_000)
    phone.reload()  # a tap on the wrong thing, a browser that restarts the page...
    expect(phone.locator("#timer-status")).to_have_text("已恢复这部手机上保存的计时。")
    expect(phone.locator("#timer-status")).to_have_class("timer-status")  # news, not a problem
    expect(phone.locator("#timer-lap-count")).to_have_text("1")
    expect(phone.locator("#timer-clock")).to_have_text("4:50")
    expect(phone.locator("#timer-phrase")).to_have_text("您做得很好。还有5分钟。")
    phone.locator("#timer-lap").click()
    phone.clock.run_for(10_000)
    phone.get_by_role("button", name="提前结束").click()
    phone.get_by_role("button", name="再点一次，立即结束试验").click()  # 1:20
    expect(phone.locator("#timer-state")).to_have_text("已提前结束：共步行1:20")
    # The big number now says how long the patient walked (what the log records), not what was
    # left (4:40), and its caption says so.
    expect(phone.get_by_role("timer", name="步行时间")).to_have_text("1:20")
    phone.context.set_offline(True)
    phone.locator("#timer-partial").fill("20")
    phone.get_by_role("button", name="保存到记录").click()
    expect(phone.locator("#timer-status")).to_contain_text("没有网络")
    # Shown as a warning, not in the blue of a link.
    expect(phone.locator("#timer-status")).to_have_class("timer-status problem")
    look(phone, "zh-16-timer-offline")
    assert "laps" not in drafts(live_app, "PRIME-303")
    assert "pending" in phone.evaluate("JSON.stringify(localStorage)")
    type_walk_part_elsewhere(live_app, "PRIME-303")  # meanwhile, on the patient's phone
    phone.context.set_offline(False)
    phone.clock.run_for(15_000)  # the timer retries; the browser also says it is online
    expect(phone.locator("#timer-status")).to_contain_text("另一部手机修改了步行结果")
    expect(phone.locator("#timer-status")).to_have_class("timer-status problem")
    assert drafts(live_app, "PRIME-303")["laps"] == 9  # what was typed is not overwritten
    look(phone, "zh-17-timer-conflict")
    phone.get_by_role("button", name="用这次计时替换").click()
    phone.get_by_role("button", name="再点一次，替换步行结果").click()
    expect(phone.get_by_role("heading", name="步行", exact=True)).to_be_visible()
    saved = drafts(live_app, "PRIME-303")
    assert (saved["laps"], saved["partial_lap_m"], saved["stop_time_s"]) == (2, 20, 80)
    timer = saved["timer"]
    assert isinstance(timer, dict) and timer["ended_early"] is True and timer["elapsed_s"] == 80


@pytest.fixture
def phone_without_js(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        java_script_enabled=False,
    )
    page = context.new_page()
    yield page
    context.close()


def test_the_log_works_without_javascript(
    phone_without_js: Page, live_server: str, live_app: Flask
) -> None:
    page = phone_without_js
    enter_as_nurse(page, live_server, live_app, "PRIME-304")
    page.get_by_role("link", name="步行计时器（供研究护士使用）").click()
    expect(page.get_by_text("计时器需要JavaScript")).to_be_visible()
    expect(page.locator("#walk-timer")).to_be_hidden()
    look(page, "zh-18-timer-without-js")
    page.get_by_role("link", name="手动填写步行结果").click()
    expect(page.get_by_role("heading", name="步行", exact=True)).to_be_visible()
    page.goto(live_server + "/visit/sixmwt/part/before")
    expect(page.locator("#field-o2_flow_l_min")).to_be_visible()  # every field shows, with a note
    expect(page.locator("#field-o2_flow_l_min .when-hint")).to_have_text(
        "只有上面选了“吸氧”才需要填。"
    )
    fill_before(page)
    page.get_by_role("button", name="下一步").click()
    page.locator("[name=laps]").fill("5")
    page.locator("[name=partial_lap_m]").fill("30")
    page.locator("label.choice:has(input[name=stopped_early][value='yes'])").click()
    page.locator("[name=stop_reason]").fill("气喘，休息了一会儿")
    page.locator("[name=stop_time_s_min]").fill("3")
    page.locator("[name=stop_time_s_sec]").fill("15")
    page.get_by_role("button", name="下一步").click()
    fill_after(page)
    page.get_by_role("button", name="下一步").click()
    expect(page.locator(".distance")).to_have_text("步行距离：330米")
    page.get_by_role("link", name="提交").click()
    page.get_by_role("button", name="确定提交").click()
    expect(page.get_by_role("heading", name="谢谢您！")).to_be_visible()
    record = sealed(live_app, "PRIME-304")
    assert record.answers["worksheet"]["stop_time_s"] == 195
    assert record.answers["worksheet"]["o2_flow_l_min"] is None


def test_the_log_and_timer_in_english(phone: Page, live_server: str, live_app: Flask) -> None:
    phone.clock.install(time=START)
    enter_as_nurse(phone, live_server, live_app, "PRIME-305", language="en")
    look(phone, "en-02-intro")
    phone.get_by_role("link", name="Start").click()
    look(phone, "en-03-before")
    fill_before(phone, resting_dbp="170")
    phone.get_by_role("button", name="Next step").click()
    expect(phone.locator("#field-resting_dbp .error")).to_contain_text(
        "Please enter a value from 20–160 mmHg"
    )
    phone.locator("[name=resting_dbp]").fill("125")
    phone.get_by_role("button", name="Next step").click()
    expect(phone.locator("#field-resting_dbp .error")).to_have_text(
        "The lower number (diastolic) must be smaller than the upper number (systolic)."
    )
    look(phone, "en-04-before-refused")
    phone.locator("[name=resting_dbp]").fill("72")
    phone.get_by_role("button", name="Next step").click()
    look(phone, "en-05-walk")
    phone.get_by_role("link", name="Open the walk timer").click()
    # The hint names the button as it reads.
    expect(phone.locator("#timer-phrase")).to_have_text(
        "Tap “Start the 6 minutes” when the patient starts walking."
    )
    look(phone, "en-06-timer-ready")
    phone.clock.pause_at(START + timedelta(minutes=10))
    phone.get_by_role("button", name="Start the 6 minutes").click()
    phone.clock.run_for(60_000)
    expect(phone.locator("#timer-phrase")).to_have_text(
        "You are doing well. You have 5 minutes to go."
    )
    for _lap in range(5):
        phone.locator("#timer-lap").click()
    phone.get_by_role("button", name="Patient paused").click()
    # Its phrases are shown as such, with one space between them (as a screen reader reads it).
    state = phone.locator("#timer-state")
    expect(state).to_have_text("Patient paused: the clock keeps running")
    assert state.evaluate("(el) => el.textContent") == "Patient paused: the clock keeps running"
    assert state.locator(".phrase").all_text_contents() == [
        "Patient paused:",
        "the clock keeps running",
    ]
    phone.get_by_role("button", name="Walking again").click()
    # The rest phrase is gone; its box keeps its place (the buttons stay put) but shows blank,
    # not as an empty yellow message.
    phrase_box = phone.locator("#timer-phrase")
    expect(phrase_box).to_have_text("")
    assert phrase_box.evaluate(
        "(el) => [getComputedStyle(el).backgroundColor, getComputedStyle(el).borderTopColor]"
    ) == ["rgba(0, 0, 0, 0)", "rgba(0, 0, 0, 0)"]
    assert phrase_box.bounding_box()["height"] > 40  # type: ignore[index]
    look(phone, "en-07-timer-running")
    phone.clock.run_for(300_000)
    expect(phone.locator("#timer-phrase")).to_have_text("Stop!")
    look(phone, "en-08-timer-partial-lap")
    phone.locator("#timer-partial").fill("59.5")
    phone.get_by_role("button", name="Save to the log").click()
    expect(phone.locator("[name=laps]")).to_have_value("5")
    phone.locator("label.choice:has(input[name=stopped_early][value='no'])").click()
    look(phone, "en-09-walk-from-timer")
    phone.get_by_role("button", name="Next step").click()
    # The timer saw a pause (tapped and undone at 1:00): "no" needs a yes before moving on.
    expect(phone.locator("#field-stopped_early")).to_contain_text(
        "The walk timer recorded a stop at 1:00. Is “No” correct?"
    )
    look(phone, "en-09b-walk-stop-question")
    phone.locator("#field-stopped_early label.confirm").click()
    phone.get_by_role("button", name="Next step").click()
    fill_after(phone)
    look(phone, "en-10-after")
    phone.get_by_role("button", name="Next step").click()
    expect(phone.locator(".distance")).to_have_text("Walk distance: 359.5 m")
    look(phone, "en-11-review")
    phone.get_by_role("link", name="Submit").click()
    phone.get_by_role("button", name="Yes, submit").click()
    expect(phone.get_by_role("heading", name="Thank you!")).to_be_visible()
    look(phone, "en-12-receipt")
