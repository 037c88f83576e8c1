"""Small server-rendered SVG charts (no JavaScript, no library): a trend across visits.

Presentation attributes only (no `style`), so the strict Content-Security-Policy holds. The chart
is a picture of the table beside it, which carries the numbers for screen readers and print.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from pro_app.formatting import number
from pro_app.services.trends import Series

WIDTH, HEIGHT = 320, 170
LEFT, RIGHT, TOP, BOTTOM = 40, 12, 14, 30
LAST_DAY = 360


def _x(day: int, last_day: int) -> float:
    return LEFT + (WIDTH - LEFT - RIGHT) * day / max(last_day, 1)


def _bounds(series: Series) -> tuple[float, float]:
    values = [point.value for point in series.points]
    measure = series.measure
    low = measure.low if measure.low is not None else min(values, default=0.0)
    high = measure.high if measure.high is not None else max(values, default=1.0)
    if measure.high is None:
        low, high = min(low, *values) if values else low, max(high, *values) if values else high
        high = high + max((high - low) * 0.15, 10.0)
    return low, high if high > low else low + 1


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
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="#1a5fb4" stroke-width="2"/>'
        )
    for x, y_, point in coordinates:
        colour = {"better": "#1b7f3b", "worse": "#b42318"}.get(point.direction or "", "#1a5fb4")
        parts.append(f'<circle cx="{x:.1f}" cy="{y_:.1f}" r="4" fill="{colour}"/>')
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle" font-size="10" '
            f'fill="#4a5568">{point.day}</text>'
        )
    parts.append("</svg>")
    # Every value above is a number or escaped text: the joined markup is safe.
    return Markup("".join(parts))  # noqa: S704
