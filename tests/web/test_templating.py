"""The template callables: `_`, `gettext`, `ngettext` and `pgettext` translate with the page's
language and behave as Jinja's "newstyle" gettext (the words trusted, their values escaped, a
count given as `num`), also where a template has no page translations (a macro imported without
context)."""

from __future__ import annotations

import pytest
from flask import Flask, render_template_string, url_for
from flask_babel import force_locale
from hypothesis import given, settings
from hypothesis import strategies as st

from pro_app.web.guard import MAX_ID
from pro_app.web.templating import RowUrl, whole_numbers

CASES = [
    (
        "{{ _('Issue link for %(study_id)s', study_id=who) }}",
        "Issue link for &lt;b&gt;PRIME-001",
        "为&lt;b&gt;PRIME-001发放链接",
    ),
    (
        "{{ gettext('Issue link for %(study_id)s', study_id='PRIME-002') }}",
        "Issue link for PRIME-002",
        "为PRIME-002发放链接",
    ),
    (
        "{{ ngettext('Closes in %(num)s day', 'Closes in %(num)s days', 1) }}"
        " / {{ ngettext('Closes in %(num)s day', 'Closes in %(num)s days', 3) }}",
        "Closes in 1 day / Closes in 3 days",
        "1天后截止 / 3天后截止",
    ),
    ("{{ _('Closes today') }}", "Closes today", "今天截止"),
    ("{{ pgettext('label before a time', 'Submitted') }}", "Submitted", "提交时间"),
    # Without placeholders the words are trusted as they are; a literal %% is still formatted.
    (
        "{{ _('Not a catalogue <b>word</b>') }}",
        "Not a catalogue <b>word</b>",
        "Not a catalogue <b>word</b>",
    ),
    (
        "{{ _('Not a catalogue 100%% word') }}",
        "Not a catalogue 100% word",
        "Not a catalogue 100% word",
    ),
]


@pytest.mark.parametrize(("source", "english", "chinese"), CASES)
def test_template_strings_in_both_languages(
    app: Flask, source: str, english: str, chinese: str
) -> None:
    for locale, expected in (("en", english), ("zh_Hans", chinese)):
        with app.test_request_context(), force_locale(locale):
            assert render_template_string(source, who="<b>PRIME-001") == expected


def test_a_template_without_the_page_translations_still_translates(app: Flask) -> None:
    """`from_string(...).render()` runs no context processor: the callables fall back to
    Flask-Babel's lookup."""
    with app.test_request_context(), force_locale("zh_Hans"):
        template = app.jinja_env.from_string("{{ _('Closes today') }}")
        assert template.render() == "今天截止"


def test_a_label_table_in_each_language_is_worked_out_once(app: Flask) -> None:
    """`labels.in_language`: the same words as each lazy label gives, in the page's language,
    and the same table again for the next page in that language."""
    from pro_app.services.progress import State
    from pro_app.web import labels

    for locale, submitted in (("en", "Submitted"), ("zh_Hans", "已提交")):
        with app.test_request_context(), force_locale(locale):
            table = labels.in_language(labels.STATES)
            assert table[State.SUBMITTED] == submitted
            assert table == {state: str(words) for state, words in labels.STATES.items()}
        with app.test_request_context(), force_locale(locale):
            assert labels.in_language(labels.STATES) is table


@settings(max_examples=200, deadline=None)
@given(row_id=st.integers(min_value=0, max_value=MAX_ID))
def test_a_row_url_is_what_url_for_builds(app: Flask, row_id: int) -> None:
    with app.test_request_context():
        for endpoint, key in (
            ("coordinator.participant", "participant_id"),
            ("coordinator.issue_link", "visit_id"),
            ("monitor.record", "response_id"),
            ("coordinator.participants", "page"),  # a query argument
        ):
            assert RowUrl(endpoint, key)(row_id) == url_for(endpoint, **{key: row_id})


def test_a_number_in_free_text_is_kept_on_one_line_and_the_rest_escaped() -> None:
    assert whole_numbers("研究护士电话：021-3880 4518") == (
        '研究护士电话：<span class="number">021-3880 4518</span>'
    )
    assert whole_numbers("Call +86 21 3880 4518 <b>now</b> & ask") == (
        'Call <span class="number">+86 21 3880 4518</span> &lt;b&gt;now&lt;/b&gt; &amp; ask'
    )
    assert whole_numbers("021-3880 4518（工作日 8:00–17:00）") == (
        '<span class="number">021-3880 4518</span>（工作日 <span class="number">8:00–17:00</span>）'
    )
    # A character escaped to an entity with digits in it (&#39;) is not taken for a number.
    assert whole_numbers("it's 5 o'clock") == "it&#39;s 5 o&#39;clock"
    assert whole_numbers("no digits") == "no digits"
