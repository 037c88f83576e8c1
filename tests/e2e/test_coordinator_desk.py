"""The coordinator's desk in a real Chromium, on a 10-inch tablet (1024x768) and a desktop, in
Chinese and English. Screenshots go to test-artifacts/screens/ for a person to look at."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, Route, expect
from pypdf import PdfReader

from pro_app import clock
from pro_app.extensions import db
from pro_app.models import Role, StaffUser
from pro_app.services import enrolment
from tests.actions import Patient
from tests.conftest import NOW
from tests.e2e.conftest import (
    PHONE,
    SCREENS,
    line_counts,
    lines_starting_with_closing_punctuation,
    lone_last_lines,
    screenshot,
    words_cut_in_two,
)
from tests.e2e.test_patient_fit import text_size
from tests.factories import (
    TODAY,
    make_participant,
    make_site,
    make_staff,
)

TABLET = {"width": 1024, "height": 768}
DESKTOP = {"width": 1366, "height": 900}
PASSWORD = "blue-kettle-river-42"

# Everything a coordinator reads or taps, measured in the real browser.
_MEASURE = """() => {
  const wide = document.documentElement.scrollWidth > window.innerWidth + 1;
  const unlabelled = [];
  for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
    if (el.offsetParent === null) continue;
    const labelled = el.labels && el.labels.length || el.getAttribute('aria-label');
    if (!labelled) unlabelled.push(el.outerHTML.slice(0, 80));
  }
  const small = [];
  const targets = 'main button, main .btn, main summary, main input[type=file], .bar a, .bar button';
  for (const el of document.querySelectorAll(targets)) {
    if (el.offsetParent === null) continue;
    const box = el.getBoundingClientRect();
    if (box.height < 40) small.push(el.outerHTML.slice(0, 60) + ' ' + box.height);
  }
  const tiny = [];
  const texts = 'main p, main td, main th, main label, main li, main dd';
  for (const el of document.querySelectorAll(texts)) {
    // The slip is sized in print points for paper, and checked as a PDF below.
    if (el.offsetParent === null || !el.innerText.trim() || el.closest('.slip')) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < 13) tiny.push(el.outerHTML.slice(0, 60) + ' ' + size);
  }
  return {wide, unlabelled, small, tiny};
}"""


def assert_usable(page: Page) -> None:
    page.wait_for_load_state("load")  # measure the styled page, not one still loading
    found = page.evaluate(_MEASURE)
    assert not found["wide"], "page scrolls sideways"
    assert found["unlabelled"] == [], f"inputs without a label: {found['unlabelled']}"
    assert found["small"] == [], f"targets under 40px: {found['small']}"
    assert found["tiny"] == [], f"text under 13px: {found['tiny']}"


@pytest.fixture(scope="module")
def seeded(live_app: Flask) -> dict[str, int]:
    """A site with participants in every state, and one account per role (committed)."""
    with live_app.app_context(), clock.frozen(NOW):
        site = make_site("SEH")
        site.contact_zh = "研究护士电话：021-3880 4518（工作日 8:00–17:00）"
        site.contact_en = "Study nurse: +86 21 3880 4518 (weekdays 8:00-17:00)"
        site.phone = "+86 21 3880 4518"  # the number the call button dials, as the text says
        make_staff("desk-zh", Role.COORDINATOR, [site], must_change_password=True)
        make_staff("desk-en", Role.COORDINATOR, [site], language="en")
        make_staff("desk-admin", Role.ADMIN, [site], language="en")
        make_staff("desk-monitor", Role.MONITOR, [site])
        ids = {}
        for number, offset in ((201, 0), (202, 10), (203, 17), (204, -5), (205, -45), (206, -100)):
            participant = make_participant(
                f"PRIME-{number}", site=site, day0=TODAY + timedelta(days=offset)
            )
            ids[f"PRIME-{number}"] = participant.id
        started = make_participant("PRIME-207", site=site, day0=TODAY + timedelta(days=3))
        ids["PRIME-207"] = started.id
        db.session.commit()
        from tests.factories import issue_token

        patient = Patient(live_app.test_client(), issue_token(started))
        patient.start()
        for item in (1, 2, 3, 4):
            patient.answer(item, 2)
        # The patient's requests ran in this app context, so on this session: the last one closed
        # it, and the site committed above is no longer held by it. Read it again.
        site = make_site("SEH")
        gone = make_participant("PRIME-208", site=site, day0=TODAY - timedelta(days=20))
        coordinator = db.session.query(StaffUser).filter_by(username="desk-en").one()
        enrolment.withdraw(gone, reason="moved to another city", staff=coordinator)
        ids["PRIME-208"] = gone.id
        db.session.commit()
    return ids


@pytest.fixture
def tablet(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        viewport=TABLET, device_scale_factor=1, has_touch=True, locale="zh-CN"
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP, device_scale_factor=1, locale="zh-CN")
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    yield page
    context.close()


def save_pdf(page: Page, name: str) -> bytes:
    """Print the page as the browser would (CSS page size), keep the PDF beside the screenshots."""
    data = page.pdf(prefer_css_page_size=True, print_background=True)
    SCREENS.mkdir(parents=True, exist_ok=True)
    (SCREENS / f"{name}.pdf").write_bytes(data)
    return data


def sign_in(page: Page, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(base + "/staff/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("form button[type=submit]").click()


def test_a_coordinators_day_on_a_tablet_in_chinese(
    tablet: Page, live_server: str, seeded: dict[str, int]
) -> None:
    page = tablet
    page.goto(live_server + "/staff/login")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    assert_usable(page)
    screenshot(page, "desk-zh-01-sign-in")
    page.locator("#username").fill("desk-zh")
    page.locator("#password").fill("wrong-password-1")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")
    screenshot(page, "desk-zh-02-sign-in-error")

    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="修改密码")).to_be_visible()
    page.locator("#current_password").fill(PASSWORD)
    page.locator("#password").fill("short")
    page.locator("#confirm").fill("short")
    page.get_by_role("button", name="保存新密码").click()
    expect(page.locator("#password-error")).to_contain_text("请至少使用12个字符")
    assert_usable(page)
    screenshot(page, "desk-zh-03-forced-password-change")
    page.locator("#current_password").fill(PASSWORD)
    page.locator("#password").fill("green-teapot-harbour-7")
    page.locator("#confirm").fill("green-teapot-harbour-7")
    page.get_by_role("button", name="保存新密码").click()

    expect(page.get_by_role("heading", name="到期看板")).to_be_visible()
    expect(page.locator("#open-now").locator("xpath=..")).to_contain_text("PRIME-201")
    assert_usable(page)
    screenshot(page, "desk-zh-04-due-board")

    page.get_by_role("link", name="受试者", exact=True).click()
    expect(page.get_by_role("heading", name="受试者")).to_be_visible()
    assert_usable(page)
    screenshot(page, "desk-zh-05-participants")
    page.locator("#q").fill("207")
    page.get_by_role("button", name="搜索").click()
    expect(page.locator("tbody tr")).to_have_count(1)

    page.get_by_role("link", name="入组", exact=True).click()
    page.locator("#study_id").fill("P-1")
    page.locator("#birth_year").fill("2015")
    page.get_by_role("button", name="入组", exact=True).click()
    expect(page.locator("#study_id-error")).to_contain_text("PRIME-001")
    expect(page.locator("#birth_year-error")).to_be_visible()
    assert_usable(page)
    screenshot(page, "desk-zh-06-enrol-errors")
    page.locator("#study_id").fill("prime-250")
    page.get_by_label("女").check()
    page.locator("#birth_year").fill("1957")
    page.locator("#height_cm").fill("158")
    page.locator("#day0").fill("2026-11-25")
    page.get_by_role("button", name="入组", exact=True).click()
    expect(page.get_by_role("heading", name="PRIME-250")).to_be_visible()
    expect(page.get_by_role("status").first).to_contain_text("PRIME-250已入组")
    assert_usable(page)
    screenshot(page, "desk-zh-07-participant-new")

    baseline = page.locator("#visit-baseline")
    baseline.get_by_role("button", name="发放链接").click()
    expect(
        page.get_by_role("heading", name="已为PRIME-250发放链接 · 基线（第0天）")
    ).to_be_visible()
    copy = page.get_by_role("button", name="复制链接")
    expect(copy).to_be_visible()
    copy.click()
    expect(page.locator(".copy-status")).to_have_text("已复制")
    url = page.locator("#link-url").input_value()
    assert page.evaluate("navigator.clipboard.readText()") == url
    assert_usable(page)
    screenshot(page, "desk-zh-08-link-issued")
    page.emulate_media(media="print")
    screenshot(page, "desk-zh-09-slip-print-a6")
    pdf = PdfReader(io.BytesIO(save_pdf(page, "desk-zh-09-slip-a6")))
    assert len(pdf.pages) == 1, "the A6 slip fits on one sheet"
    width, height = float(pdf.pages[0].mediabox.width), float(pdf.pages[0].mediabox.height)
    assert (round(width), round(height)) == (298, 420)  # A6 in points
    page.emulate_media(media="screen")
    page.get_by_label("A5").check()
    page.emulate_media(media="print")
    pdf = PdfReader(io.BytesIO(save_pdf(page, "desk-zh-09-slip-a5")))
    assert len(pdf.pages) == 1
    assert round(float(pdf.pages[0].mediabox.height)) == 595  # A5
    page.emulate_media(media="screen")

    page.get_by_role("link", name="返回PRIME-250").click()
    baseline = page.locator("#visit-baseline")
    baseline.locator("summary", has_text="重新发放").click()
    baseline.get_by_role("button", name="重新发放链接").click()
    expect(baseline.locator(".error-text")).to_contain_text("请填写原因")
    assert_usable(page)
    screenshot(page, "desk-zh-10-reissue-needs-reason")
    baseline.locator("textarea[id^=reissue-reason]").fill("受试者手机丢失")
    baseline.get_by_role("button", name="重新发放链接").click()
    expect(
        page.get_by_role("heading", name="已为PRIME-250重新发放链接 · 基线（第0天）")
    ).to_be_visible()
    page.get_by_role("link", name="返回PRIME-250").click()

    baseline = page.locator("#visit-baseline")
    baseline.locator("summary", has_text="代录入").click()
    baseline.locator("textarea[id^=enter-reason]").fill("纸质问卷转录")
    baseline.get_by_role("button", name="开始代录入").click()
    expect(page.locator(".staff-entry-bar")).to_contain_text("正在为PRIME-250代录入")
    screenshot(page, "desk-zh-11-staff-entry-visit")
    page.get_by_role("link", name="开始填写").first.click()
    page.get_by_role("link", name="开始填写").click()
    expect(page.locator(".staff-entry-bar")).to_be_visible()
    screenshot(page, "desk-zh-12-staff-entry-item")
    page.get_by_role("button", name="结束代录入").click()
    expect(page.get_by_role("heading", name="PRIME-250")).to_be_visible()

    page.goto(live_server + f"/desk/participants/{seeded['PRIME-207']}")
    expect(page.locator("#visit-baseline")).to_contain_text("已答4题，共21题")
    assert_usable(page)
    screenshot(page, "desk-zh-13-participant-in-progress")

    page.goto(live_server + f"/desk/participants/{seeded['PRIME-208']}")
    expect(page.locator(".notice-withdrawn")).to_contain_text("moved to another city")
    # "No longer collected" reads plainly: struck through, it was hard to read and said the opposite.
    struck = page.evaluate(
        """() => [...document.querySelectorAll('main .state')]
          .filter((badge) => getComputedStyle(badge).textDecorationLine.includes('line-through'))
          .length"""
    )
    assert struck == 0
    screenshot(page, "desk-zh-14-participant-withdrawn")

    page.goto(live_server + f"/desk/participants/{seeded['PRIME-206']}/withdraw")
    page.get_by_role("button", name="确认退出").click()
    expect(page.locator("#reason-error")).to_be_visible()
    assert_usable(page)
    screenshot(page, "desk-zh-15-withdraw")

    page.goto(live_server + f"/desk/participants/{seeded['PRIME-206']}/day0")
    assert_usable(page)
    screenshot(page, "desk-zh-16-day0")

    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_role("status")).to_contain_text("您已退出登录")


@pytest.mark.parametrize("text", [100, 150])
def test_the_board_and_list_fit_a_phone_with_its_text_size(
    browser: Browser, live_server: str, seeded: dict[str, int], text: int
) -> None:
    """A coordinator checking the board on a phone (360x740), at the phone's text size: the page
    never scrolls sideways (a wide table scrolls in its own box), and the text follows the
    phone's setting."""
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    text_size(page, text)
    sign_in(page, live_server, "desk-en")
    expect(page.get_by_role("heading", name="Due board")).to_be_visible()
    for path, name in (("/desk/", "due-board"), ("/desk/participants", "participants")):
        page.goto(live_server + path)
        page.wait_for_load_state("load")
        # On a phone the layout widens to fit what overflows: measured against the screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
        body = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        assert body >= 16 * text / 100 - 0.5, body
        assert lines_starting_with_closing_punctuation(page) == [], path
        assert words_cut_in_two(page) == [], path
        # The top bar leaves the screen to the page: at 150% text it took half of it.
        bar = page.evaluate("document.querySelector('.bar').getBoundingClientRect().height")
        assert bar <= PHONE["height"] * 0.35, (path, bar)
        # A study id reads whole: the board broke "PRIME- / 201" (its table scrolls instead).
        ids = line_counts(page, "tbody th[scope=row] a")
        wrapped = [study_id for study_id, lines in ids if lines > 1]
        assert wrapped == [], (path, wrapped)
        # A table wider than the phone scrolls in its box, with a shadow on the side where more
        # is hidden (scroll-attached shadows under content-attached covers).
        scrolls = page.evaluate(
            """() => [...document.querySelectorAll('main .table')]
              .filter((table) => table.scrollWidth > table.clientWidth + 1)
              .map((table) => getComputedStyle(table))
              .map((style) => [style.backgroundImage.split('radial-gradient').length - 1,
                               style.backgroundAttachment])"""
        )
        assert scrolls, path  # on a 360px phone the board's and the list's tables are wider
        assert all(
            shadows == 2 and attachment.startswith("local, local, scroll, scroll")
            for shadows, attachment in scrolls
        ), (path, scrolls)
        page.screenshot(path=str(SCREENS / f"desk-en-phone-{name}-text{text}.png"))
    context.close()


@pytest.mark.parametrize("width", [320, 360])
@pytest.mark.parametrize(
    ("language", "heading"), [("zh_Hans", "研究人员登录"), ("en", "Staff sign-in")]
)
def test_the_sign_in_page_fits_a_phone_with_large_text(
    browser: Browser, live_server: str, language: str, heading: str, width: int
) -> None:
    """At 320px and 187.5% text "(NCT04992832):" was wider than the sign-in card, so the page
    scrolled sideways. Nothing on it reaches past the screen, and no line starts with a closing
    mark."""
    context = browser.new_context(
        viewport={"width": width, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN" if language == "zh_Hans" else "en-GB",
    )
    page = context.new_page()
    text_size(page, 187.5)
    page.goto(f"{live_server}/staff/login?lang={language}")
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    # What spills out of its box (text wider than the element holding it), and the page's width.
    spilled = page.evaluate(
        """() => [...document.querySelectorAll('main *')]
          .filter((el) => el.scrollWidth > el.clientWidth + 1)
          .map((el) => el.outerHTML.slice(0, 80))"""
    )
    assert spilled == [], spilled
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # The Chinese "（NCT04992832）：" broke before its "）：" at 320px.
    assert lines_starting_with_closing_punctuation(page) == []
    assert words_cut_in_two(page) == []
    assert lone_last_lines(page) == []
    screenshot(page, f"signin-{language}-{width}px-text187")
    context.close()


def test_the_desk_on_a_desktop_in_english(
    desktop: Page, live_server: str, seeded: dict[str, int]
) -> None:
    page = desktop
    sign_in(page, live_server, "desk-en")
    expect(page.get_by_role("heading", name="Due board")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert_usable(page)
    screenshot(page, "desk-en-01-due-board")
    page.get_by_role("link", name="Participants", exact=True).click()
    page.locator("#status").select_option("all")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("tbody")).to_contain_text("PRIME-208")
    assert_usable(page)
    screenshot(page, "desk-en-02-participants")
    page.get_by_role("link", name="PRIME-201").click()
    assert_usable(page)
    screenshot(page, "desk-en-03-participant")
    # The same page on a tablet, with the longer English labels and an action form open.
    page.set_viewport_size(TABLET)
    page.locator("#visit-baseline").locator("summary", has_text="Enter data").click()
    assert_usable(page)
    screenshot(page, "desk-en-03-participant-tablet")
    page.set_viewport_size(DESKTOP)
    page.locator("#visit-d43").get_by_role("button", name="Issue link").click()
    expect(page.get_by_text("The window opens on 31 Dec 2026")).to_be_visible()
    assert_usable(page)
    screenshot(page, "desk-en-04-link-issued-before-window")
    page.get_by_role("link", name="Enrol", exact=True).click()
    assert_usable(page)
    screenshot(page, "desk-en-05-enrol")
    page.get_by_role("button", name="中文").click()
    expect(page.get_by_role("heading", name="受试者入组")).to_be_visible()
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Enrol a participant")).to_be_visible()
    page.get_by_role("link", name="desk-en").click()
    page.get_by_role("link", name="Set up two-step sign-in").click()
    expect(page.locator(".qr-setup svg")).to_be_visible()
    assert_usable(page)
    screenshot(page, "desk-en-06-two-step-setup")


def test_admin_and_monitor_screens(desktop: Page, live_server: str, seeded: dict[str, int]) -> None:
    page = desktop
    sign_in(page, live_server, "desk-admin")
    expect(page.get_by_role("heading", name="Staff accounts")).to_be_visible()
    assert_usable(page)
    screenshot(page, "admin-en-01-staff")
    page.get_by_role("link", name="New account").click()
    page.locator("#username").fill("nurse.wang")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Account nurse.wang created")).to_be_visible()
    screenshot(page, "admin-en-02-one-time-password")
    page.get_by_role("link", name="Sites").click()
    page.get_by_role("link", name="SEH").click()
    assert_usable(page)
    screenshot(page, "admin-en-03-site")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, live_server, "desk-monitor")
    expect(page.get_by_role("heading", name="记录")).to_be_visible()
    assert_usable(page)
    screenshot(page, "monitor-zh-01-records")
    page.get_by_role("link", name="核验已签名的PDF副本").click()
    expect(page.get_by_role("heading", name="核验已签名的PDF副本")).to_be_visible()
    assert_usable(page)
    screenshot(page, "monitor-zh-01-verify")
    page.goto(live_server + "/desk/")
    expect(page.get_by_role("heading", name="无权访问")).to_be_visible()
    screenshot(page, "monitor-zh-02-no-access")


def test_a_second_tap_while_a_form_is_sent_sends_nothing(
    desktop: Page, live_server: str, seeded: dict[str, int]
) -> None:
    """A double click, or a second press while the clinic's network is slow: the form is sent
    once, and the coordinator sees the page they asked for (not "this visit already has a
    link"). Back at the page (the browser's back-forward cache), the form works again."""
    page = desktop
    sign_in(page, live_server, "desk-en")
    page.goto(f"{live_server}/desk/participants/{seeded['PRIME-202']}")
    held: list[Route] = []
    page.route("**/visits/*/link", lambda route: held.append(route))  # requests wait here
    button = page.locator("#visit-baseline").get_by_role("button", name="Issue link")
    # The second tap comes from the page itself 150 ms after the first, while the first request
    # is out (Playwright's own actions would wait for that navigation to finish).
    button.evaluate(
        "b => b.addEventListener('click', () => setTimeout(() => b.click(), 150), {once: true})"
    )
    button.click(no_wait_after=True)
    page.wait_for_timeout(700)
    assert len(held) == 1, [route.request.url for route in held]
    held[0].continue_()
    page.unroute("**/visits/*/link")
    expect(page.get_by_role("heading", name="Link issued")).to_be_visible()
    # The page again from the back-forward cache (as the Back button shows it): usable.
    sent = page.evaluate(
        """() => {
          const form = document.createElement('form');
          form.method = 'post';
          document.body.append(form);
          const tap = () => {
            const event = new SubmitEvent('submit', {cancelable: true, bubbles: true});
            form.dispatchEvent(event);
            return !event.defaultPrevented;
          };
          const first = tap(), second = tap();
          window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}));
          return [first, second, tap()];
        }"""
    )
    assert sent == [True, False, True]
