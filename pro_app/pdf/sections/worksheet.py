"""The PDF section of a worksheet (the 6MWT log): the fields grouped as on the form, a timer's raw
data, the rating scales shown, then the computed values of its computation (one group builder per
computation method, e.g. pdf/sections/six_minute_walk.py) with the reason for every empty one.

Reads only the sealed record (`answers`, `scores`) and the instrument file; labels come from the
instrument's own bilingual wording or through gettext, in the record's language with English
alongside (like the questionnaire section).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from flask_babel import gettext as _

from pro_app.formatting import clock_text, display
from pro_app.languages import ENGLISH, LANGUAGE_NAMES
from pro_app.models import Response
from pro_app.pdf.document import FieldGroup, FieldLine, Line, Part, Section
from pro_app.pdf.lines import both, pair
from pro_app.pdf.sections.six_minute_walk import DASH, six_minute_walk_groups
from pro_app.questionnaire.catalog import Catalog
from pro_app.questionnaire.formcheck import applies, is_blank
from pro_app.questionnaire.worksheet import RatingScale, Worksheet, WorksheetField

# The computed-value groups of each computation method.
COMPUTED_GROUPS: dict[str, Callable[..., tuple[FieldGroup, ...]]] = {
    "six_minute_walk": six_minute_walk_groups,
}


def worksheet_section(
    instrument: Worksheet, response: Response, catalog: Catalog, wording_available: bool
) -> Section:
    """The worksheet by screen (before the walk / the walk / after the walk), then the values."""
    language = response.language
    answers: Mapping[str, Any] = response.answers
    worksheet: Mapping[str, Any] = answers.get("worksheet") or {}
    confirmed = _confirmed_by_field(answers.get("confirmed_warnings") or {})
    parts = []
    for screen in instrument.screens:
        groups = [
            FieldGroup(
                title=pair(language, section.title),
                fields=tuple(
                    _field_line(
                        instrument.field(field_id),
                        worksheet,
                        confirmed.get(field_id, ()),
                        language,
                    )
                    for field_id in section.fields
                ),
            )
            for section in screen.sections
        ]
        if instrument.timer is not None and screen.id == instrument.timer.screen:
            groups.append(_timer_group(answers.get("timer"), worksheet, language))
        parts.append(
            Part(
                heading=pair(language, screen.title, prefix=f"{screen.number} "),
                groups=tuple(groups),
            )
        )
    scores: Mapping[str, Any] = response.scores
    notes = [
        both(
            language,
            lambda: _(
                "The worksheet as sealed, grouped as on the form. A blank field shows —; a field "
                "that did not apply shows “Not applicable”."
            ),
        ),
        Line(instrument.standard),
    ]
    saved_by = _saved_by(answers.get("entered_by") or {}, language)
    if saved_by is not None:
        notes.append(saved_by)
    return Section(
        kind="worksheet",
        heading=pair(language, instrument.title),
        notes=tuple(notes),
        answer_heading=both(language, lambda: _("Worksheet")),
        rows=(),
        scores_heading=both(language, lambda: _("Computed values")),
        scores=(),
        score_notes=(
            both(
                language,
                lambda: _(
                    "Computed by the server when the record was sealed (%(version)s), from the "
                    "worksheet and the participant's sex, birth year and height.",
                    version=response.scoring_version,
                ),
            ),
        ),
        parts=tuple(parts),
        computed=(
            *COMPUTED_GROUPS[instrument.computation.method](
                instrument, worksheet, scores, catalog, language
            ),
            *(
                _scale_group(scale, (answers.get("scales") or {}).get(scale.id) or {}, language)
                for scale in instrument.scales
            ),
        ),
    )


# --- the worksheet ------------------------------------------------------------------------------


def _value(form_field: WorksheetField, value: Any, language: str) -> Line:
    text = display(form_field, value, language)
    if language.startswith(ENGLISH) or form_field.type == "text":
        return Line(text)
    english = display(form_field, value, ENGLISH)
    return Line(text, english if english != text else None)


def _field_line(
    form_field: WorksheetField,
    worksheet: Mapping[str, Any],
    confirmed: tuple[str, ...],
    language: str,
) -> FieldLine:
    label = pair(language, form_field.label)
    value = worksheet.get(form_field.id)
    if is_blank(value) and not applies(form_field, worksheet):
        return FieldLine(label, both(language, lambda: _("Not applicable")), "not_applicable")
    if is_blank(value):
        return FieldLine(label, Line(DASH), "blank")
    notes = tuple(_confirmed_note(code, language) for code in confirmed)
    return FieldLine(label, _value(form_field, value, language), notes=notes, flag=bool(notes))


def _confirmed_by_field(confirmations: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """ "baseline_hr:unusual_value" -> {"baseline_hr": ("unusual_value",)}."""
    found: dict[str, list[str]] = {}
    for key in sorted(confirmations):
        field_id, _sep, code = key.partition(":")
        found.setdefault(field_id, []).append(code)
    return {field_id: tuple(codes) for field_id, codes in found.items()}


def _confirmed_note(code: str, language: str) -> Line:
    return both(language, lambda: confirmed_words(code))


def confirmed_words(code: str) -> str:
    """A warning confirmed at entry, in the current language (the record page says it too)."""
    if code == "unusual_value":
        return _("Unusual value, confirmed as correct at entry")
    if code == "date_outside_window":
        return _("Date outside the visit window, confirmed at entry")
    if code == "lap_not_twice_course":
        return _("Lap not twice the course length, confirmed at entry")
    if code == "distance_unusual":
        return _("Unusual total distance, confirmed as correct at entry")
    if code == "timer_recorded_stop":
        return _("The timer recorded a stop; “No” confirmed at entry")
    return _("Unusual value (%(code)s), confirmed at entry", code=code)


def _saved_by(entered_by: Mapping[str, str], language: str) -> Line | None:
    """Who saved the fields last, counted, e.g. "The participant 27; Staff user coord.li 4"."""
    if not entered_by:
        return None
    counts = sorted(Counter(entered_by.values()).items())
    return both(
        language,
        lambda: _(
            "Fields last saved by (number of fields): %(who)s",
            who="; ".join(f"{_who(who)} {count}" for who, count in counts),
        ),
    )


def _who(who: str) -> str:
    """Called under force_locale (inside `both`)."""
    if who == "participant":
        return _("The participant")
    if who.startswith("staff:"):
        return f"{_('Staff user')} {who.removeprefix('staff:')}"
    return who


# --- the walk timer -----------------------------------------------------------------------------


def _timer_group(
    timer: Mapping[str, Any] | None, worksheet: Mapping[str, Any], language: str
) -> FieldGroup:
    title = both(language, lambda: _("Walk timer (raw data, the source of the walk part)"))
    if not timer:
        return FieldGroup(
            title,
            (
                FieldLine(
                    both(language, lambda: _("Walk timer")),
                    both(language, lambda: _("Not used: the walk part was entered by hand")),
                ),
            ),
        )
    laps = int(timer.get("laps", 0))
    lap_times = [clock_text(t) for t in timer.get("lap_times_s", [])]
    pauses = timer.get("pauses") or []
    pause_text = ", ".join(
        f"{clock_text(start)}–{clock_text(end) if end is not None else '…'}"
        for start, end in pauses
    )
    lap_notes: tuple[Line, ...] = ()
    if worksheet.get("laps") is not None and worksheet.get("laps") != laps:
        lap_notes = (
            both(
                language,
                lambda: _(
                    "The worksheet says %(laps)s laps: changed by hand after the timer.",
                    laps=worksheet.get("laps"),
                ),
            ),
        )
    ended_early = bool(timer.get("ended_early"))
    fields = (
        FieldLine(
            both(language, lambda: _("Laps counted by the timer")),
            Line(str(laps)),
            notes=lap_notes,
            flag=bool(lap_notes),
        ),
        FieldLine(
            both(language, lambda: _("Lap times (since the start, m:ss)")),
            Line(", ".join(lap_times) if lap_times else DASH),
            state="answered" if lap_times else "blank",
        ),
        FieldLine(
            both(language, lambda: _("Pauses (from–to, m:ss)")),
            both(language, lambda: _("None")) if not pauses else Line(pause_text),
            notes=(both(language, lambda: _("Number of pauses: %(num)s", num=len(pauses))),)
            if pauses
            else (),
        ),
        FieldLine(
            both(language, lambda: _("Elapsed time (m:ss)")),
            Line(clock_text(float(timer.get("elapsed_s", 0)))),
            notes=(both(language, lambda: _("Ended early by the assessor")),)
            if ended_early
            else (),
            flag=ended_early,
        ),
    )
    return FieldGroup(title, fields)


# --- rating scales ------------------------------------------------------------------------------


def _scale_group(scale: RatingScale, shown: Mapping[str, Any], language: str) -> FieldGroup:
    wording: Mapping[str, Any] = shown.get("wording") or {}
    shown_lines = [_wording_line(used, wording[used], language) for used in sorted(wording)]
    first, rest = (shown_lines[0], tuple(shown_lines[1:])) if shown_lines else (Line(DASH), ())
    return FieldGroup(
        pair(language, scale.title),
        (
            FieldLine(
                both(language, lambda: _("Scale and version")),
                _scale_version(
                    str(shown.get("version") or shown.get("name") or DASH), scale, language
                ),
            ),
            FieldLine(both(language, lambda: _("Scale wording shown")), first, notes=rest),
        ),
    )


def _scale_version(stored: str, scale: RatingScale, language: str) -> Line:
    """The sealed scale version; the built-in one (no site pack) is described in the record's
    language too, with the stored English text alongside."""
    if stored != scale.version_without_pack or language.startswith(ENGLISH):
        return Line(stored)
    return Line(scale.version_words(language), stored)


def _wording_line(used: str, pack: Mapping[str, Any] | None, language: str) -> Line:
    """Whether the Borg wording was shown in one language of the answers, and from which pack."""
    name = LANGUAGE_NAMES.get(used, used)
    if pack:
        return both(
            language,
            lambda: _(
                "%(language)s: yes, site text pack %(pack)s (%(version)s)",
                language=name,
                pack=pack.get("pack_id"),
                version=pack.get("scale_version"),
            ),
        )
    return both(
        language,
        lambda: _("%(language)s: no, numbers only (no site text pack installed)", language=name),
    )
