"""Dates as staff pages show them: the template filter (the page's translations, looked up once
per render) writes a window exactly as the formatter does through Flask-Babel."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from flask import Flask, render_template_string
from flask_babel import force_locale

from pro_app import formatting

START, END = date(2026, 11, 11), date(2026, 11, 25)


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (
            "zh_Hans",
            '<span class="nowrap">2026年11月11日</span>至<span class="nowrap">2026年11月25日</span>',
        ),
        (
            "en",
            '<span class="nowrap">11 Nov 2026</span> – <span class="nowrap">25 Nov 2026</span>',
        ),
    ],
)
def test_a_window_reads_the_same_from_a_template_and_from_python(
    app: Flask, locale: str, expected: str
) -> None:
    with app.test_request_context(), force_locale(locale):
        from_python = formatting.window(START, END)
        from_template = render_template_string("{{ start | window(end) }}", start=START, end=END)
    assert str(from_python) == expected
    assert from_template == expected


def test_a_window_escapes_its_wording() -> None:
    shown = formatting.window(START, END, "en", translate=lambda _text: "<b>%(start)s</b>%(end)s")
    assert shown.startswith('&lt;b&gt;<span class="nowrap">11 Nov 2026</span>&lt;/b&gt;')


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (
            "zh_Hans",
            '<span class="nowrap">2026年11月25日</span> <span class="nowrap">10:00</span>'
            '<span class="nowrap">（北京时间）</span>',
        ),
        (
            "en",
            '<span class="nowrap">25 Nov 2026</span> <span class="nowrap">10:00</span> '
            '<span class="nowrap">China Standard Time</span>',
        ),
    ],
)
def test_a_moment_on_a_phone_reads_as_the_moment_in_parts_that_stay_whole(
    locale: str, expected: str
) -> None:
    """The receipt's time: the date, the time and the zone each move to the next line whole;
    without the tags it is the moment every other page writes."""
    instant = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    shown = formatting.whole_moment(instant, "Asia/Shanghai", locale)
    assert shown == expected
    assert re.sub(r"<[^>]+>", "", shown) == formatting.moment(instant, "Asia/Shanghai", locale)
