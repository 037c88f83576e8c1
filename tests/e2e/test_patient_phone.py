"""A patient on a 360x740 phone: large text, large targets, the whole MLHFQ, in both languages."""

from __future__ import annotations

import re

from flask import Flask
from playwright.sync_api import Page, expect

from tests.e2e.conftest import line_counts, participant_link, screenshot

# Everything a patient reads or taps, measured in the real browser.
_MEASURE = """() => {
  const small = [];
  const texts = 'main p, main li, main label, main legend, main a, main button, main dd, main dt';
  for (const el of document.querySelectorAll(texts)) {
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (el.offsetParent !== null && el.innerText.trim() && size < 18) {
      small.push(el.outerHTML.slice(0, 80) + ' ' + size);
    }
  }
  const tiny = [];
  for (const el of document.querySelectorAll('a, button, label.choice, input[type=radio]')) {
    const target = el.matches('input') ? el.closest('label') : el;
    if (!target || target.offsetParent === null) continue;
    const box = target.getBoundingClientRect();
    if (box.height < 48 || box.width < 48) {
      tiny.push(target.outerHTML.slice(0, 80) + ' ' + box.width + 'x' + box.height);
    }
  }
  // A mobile browser widens the layout viewport to fit the content, so compare with the screen.
  const wide = document.documentElement.scrollWidth > Math.min(window.innerWidth, screen.width);
  return {small, tiny, wide};
}"""


def assert_readable(page: Page) -> None:
    # A click that navigates returns before the stylesheet is applied: measure the loaded page.
    page.wait_for_load_state("load")
    found = page.evaluate(_MEASURE)
    assert found["small"] == [], f"text under 18px: {found['small']}"
    assert found["tiny"] == [], f"tap targets under 48px: {found['tiny']}"
    assert not found["wide"], "page scrolls sideways on a 360px phone"


def test_mlhfq_on_a_phone_in_chinese_then_english(
    phone: Page, live_server: str, live_app: Flask
) -> None:
    phone.goto(live_server + participant_link(live_app, "PRIME-101"))
    expect(phone.locator("html")).to_have_attribute("lang", "zh-Hans")
    assert_readable(phone)
    screenshot(phone, "zh-01-landing")
    phone.get_by_role("button", name="开始填写").click()
    expect(phone.get_by_role("heading")).to_contain_text("心衰生活质量问卷")
    assert_readable(phone)
    screenshot(phone, "zh-02-intro")
    phone.get_by_role("link", name="开始填写").click()
    expect(phone.get_by_text("第1题，共21题")).to_be_visible()
    phone.get_by_role("button", name="下一题").click()
    expect(phone.get_by_role("alert")).to_contain_text("请选择一个答案")
    assert_readable(phone)
    screenshot(phone, "zh-03-item-error")
    for number in range(1, 11):
        expect(phone.get_by_text(f"第{number}题，共21题")).to_be_visible()
        phone.locator("label.choice").nth(number % 6).click()
        if number == 3:
            assert_readable(phone)
            screenshot(phone, "zh-04-item")
        phone.get_by_role("button", name="下一题").click()
    phone.get_by_role("link", name="English").click()
    expect(phone.get_by_text("Question 11 of 21")).to_be_visible()
    assert_readable(phone)
    screenshot(phone, "en-04-item")
    for _number in range(11, 21):
        phone.locator("label.choice").nth(2).click()
        phone.get_by_role("button", name="Next").click()
    phone.get_by_role("button", name="Skip this question").click()
    expect(phone.get_by_role("heading", name="Check your answers")).to_be_visible()
    expect(phone.locator(".review-row.missing")).to_have_count(1)
    assert_readable(phone)
    screenshot(phone, "en-05-review")
    phone.get_by_role("link", name="中文").click()
    screenshot(phone, "zh-05-review")
    phone.locator(".review-row.missing a").click()
    phone.locator("label.choice").nth(0).click()
    phone.get_by_role("button", name="回到检查页面").click()
    expect(phone.locator(".review-row.missing")).to_have_count(0)
    phone.get_by_role("link", name="提交").click()
    assert_readable(phone)
    screenshot(phone, "zh-06-confirm")
    phone.get_by_role("button", name="确定提交").click()
    expect(phone.get_by_role("heading", name="谢谢您！")).to_be_visible()
    assert_readable(phone)
    # The time received reads in whole parts: "10:00（北 / 京时间）" broke inside the zone.
    parts = line_counts(phone, ".moment .nowrap")
    assert [lines for _part, lines in parts] == [1, 1, 1], parts
    screenshot(phone, "zh-07-receipt")
    phone.get_by_role("link", name="English").click()
    screenshot(phone, "en-07-receipt")


def test_error_pages_on_a_phone(phone: Page, live_server: str) -> None:
    response = phone.goto(live_server + "/s/this-is-not-a-real-link")
    assert response is not None and response.status == 404
    assert_readable(phone)
    screenshot(phone, "zh-08-unknown-link")
    # The site's address alone: where the questionnaire is, and the staff's way in.
    response = phone.goto(live_server + "/?lang=zh_Hans")
    assert response is not None and response.status == 200
    assert_readable(phone)
    screenshot(phone, "zh-09-home")
    phone.get_by_role("link", name="研究人员登录").click()
    phone.wait_for_url(re.compile(r"/staff/login$"))
