"""The audit history's details speak the reader's language: a stored code (who entered an answer)
is shown in words, never as the code."""

from __future__ import annotations

from flask import Flask
from flask_babel import force_locale

from pro_app.web import labels


def test_who_entered_an_answer_is_shown_in_words(app_ctx: Flask) -> None:
    with app_ctx.test_request_context(), force_locale("zh_Hans"):
        assert labels.details({"entered_by": "participant", "value": 3}) == [
            ("回答", "3"),
            ("录入人", "受试者本人"),
        ]
        assert labels.details({"entered_by": "staff"}) == [("录入人", "研究人员")]
    with app_ctx.test_request_context(), force_locale("en"):
        assert labels.details({"entered_by": "staff"}) == [("entered by", "Study staff")]
        assert labels.details({"entered_by": "participant"}) == [("entered by", "The participant")]
    # A value the labels do not know is shown as stored, not dropped.
    with app_ctx.test_request_context(), force_locale("en"):
        assert labels.details({"entered_by": "device"}) == [("entered by", "device")]
