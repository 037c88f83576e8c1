"""The page's language reaches Flask-Babel as a Locale parsed once per process."""

from __future__ import annotations

import pytest
from flask import Flask, session
from flask_babel import get_locale

from pro_app.web import i18n


@pytest.mark.parametrize(
    ("accept", "expected"),
    [("en-GB,en;q=0.9", "en"), ("zh-CN,zh;q=0.9", "zh_Hans"), ("fr", "zh_Hans")],
)
def test_the_browser_language_picks_one_of_the_two_locales(
    app: Flask, accept: str, expected: str
) -> None:
    with app.test_request_context(headers={"Accept-Language": accept}):
        locale = get_locale()
        assert str(locale) == expected
        assert locale is i18n._LOCALES[expected]  # the shared one: nothing parsed per request


def test_a_chosen_language_wins_over_the_browser(app: Flask) -> None:
    with app.test_request_context(headers={"Accept-Language": "en"}):
        session["lang"] = "zh_Hans"
        assert str(get_locale()) == "zh_Hans"
