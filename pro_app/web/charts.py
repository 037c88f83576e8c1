"""Small server-rendered SVG charts (no JavaScript, no library): a trend across visits.

Presentation attributes only (no `style`), so the strict Content-Security-Policy holds. The chart
is a picture of the table beside it, which carries the numbers for screen readers and print.
"""

from __future__ import annotations

import math

from markupsafe import Markup, escape

from pro_app.formatting import number
from pro_app.services.trends import Series

WIDTH, HEIGHT = 320, 170
LEFT, RIGHT, TOP, BOTTOM = 40, 12, 14, 30
LAST_DAY = 360
MIN_LABEL_GAP = 22  # pixels between the centres of two day labels


def _x(day: int, last_day: int) -> float:
    return LEFT + (WIDTH - LEFT - RIGHT) * day / max(last_day, 1)


def _nice_ceiling(value: float) -> float:
    """The next round number at or above `value`, in steps of its power of ten (a fifth of it
    just above a power): 496.8 -> 500, 73 -> 80, 4.2 -> 5, 105 -> 120."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    step = power if value / power >= 2 else power / 5
    return math.ceil(value / step - 1e-9) * step


def _bounds(series: Series) -> tuple[float, float]:
    """The measure's own range when it has one (a score), else zero up to a round number above
    the highest value with some headroom (a distance)."""
    values = [point.value for point in series.points]
    measure = series.measure
    low = measure.low if measure.low is not None else min(0.0, *values) if values else 0.0
    if measure.high is not None:
        high = measure.high
    else:
        top = max(values, default=1.0)
        high = _nice_ceiling(top + max((top - low) * 0.15, 10.0))
    return low, high if high > low else low + 1


def _day_labels(days: list[tuple[float, int]]) -> list[tuple[float, int]]:
    """The study days to print under the axis, left to right, leaving out one that would touch
    the label before it (Day 0 and Day 7 sit a few pixels apart on a 360-day axis)."""
    shown: list[tuple[float, int]] = []
    for x, day in sorted(set(days)):
        if not shown or x - shown[-1][0] >= MIN_LABEL_GAP:
            shown.append((x, day))
    return shown


def trend_svg(series: Series, locale: str, *, last_day: int = LAST_DAY) -> Markup:
    """One measure across visits: its points joined, the baseline as a dashed line, the band of
    changes smaller than the MCID shaded, visits on the x axis by study day."""
    low, high = _bounds(series)

    def y(value: float) -> float:
        return TOP + (HEIGHT - TOP - BOTTOM) * (high - value) / (high - low)

    label = series.measure.label(locale)
    parts = [
        f'<svg class="trend" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(label)}</title>",
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}" '
        'stroke="#8a94a6" stroke-width="1"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}" stroke="#8a94a6" '
        'stroke-width="1"/>',
        f'<text x="{LEFT - 4}" y="{y(high) + 4:.1f}" text-anchor="end" font-size="10" '
        f'fill="#4a5568">{escape(number(round(high, 1)))}</text>',
        f'<text x="{LEFT - 4}" y="{y(low) + 4:.1f}" text-anchor="end" font-size="10" '
        f'fill="#4a5568">{escape(number(round(low, 1)))}</text>',
    ]
    baseline = series.baseline
    mcid = series.measure.mcid
    if baseline is not None:
        if mcid is not None:
            top, bottom = y(min(baseline.value + mcid, high)), y(max(baseline.value - mcid, low))
            parts.append(
                f'<rect x="{LEFT}" y="{top:.1f}" width="{WIDTH - LEFT - RIGHT}" '
                f'height="{bottom - top:.1f}" fill="#e2e8f0"/>'
            )
        parts.append(
            f'<line x1="{LEFT}" y1="{y(baseline.value):.1f}" x2="{WIDTH - RIGHT}" '
            f'y2="{y(baseline.value):.1f}" stroke="#718096" stroke-dasharray="4 3"/>'
        )
    coordinates = [(_x(point.day, last_day), y(point.value), point) for point in series.points]
    if len(coordinates) > 1:
        path = " ".join(f"{x:.1f},{y_:.1f}" for x, y_, _point in coordinates)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#1a5fb4" stroke-width="2"/>')
    for x, y_, point in coordinates:
        colour = {"better": "#1b7f3b", "worse": "#b42318"}.get(point.direction or "", "#1a5fb4")
        parts.append(f'<circle cx="{x:.1f}" cy="{y_:.1f}" r="4" fill="{colour}"/>')
    for x, day in _day_labels([(x, point.day) for x, _y, point in coordinates]):
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle" font-size="10" '
            f'fill="#4a5568">{day}</text>'
        )
    parts.append("</svg>")
    # Every value above is a number or escaped text: the joined markup is safe.
    return Markup("".join(parts))  # noqa: S704
