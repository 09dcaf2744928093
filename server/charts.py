"""Server-rendered SVG bar charts for the admin insights page.

Rendering on the server keeps the page free of chart scripts, and the markup works under the
app's strict Content-Security-Policy (``style-src 'self'``): there are no ``style`` attributes
and no ``<style>`` element, only geometry as presentation attributes and colours as classes.

Classes the page stylesheet must style:
    chart         the <svg> element (give it ``width: 100%; height: auto``)
    chart-grid    horizontal grid lines at the y ticks (stroke)
    chart-axis    the baseline (stroke)
    chart-label   tick labels, day labels, legend text and the "No data" message (fill)
    <css_class>   each Series' own class, on its bars and legend swatch (fill)
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
LEFT, RIGHT, TOP, BOTTOM = 40, 20, 26, 20  # room for y labels, the last day label, legend, x labels
FONT_SIZE = 10
CHAR_WIDTH = 6  # a generous average glyph width at FONT_SIZE, to keep text from colliding
MIN_LABEL_GAP = 44  # centre to centre: "Sep 30" is about 36px wide, plus breathing room
MAX_BAR_WIDTH = 24  # so a week (or a single day) doesn't turn into slabs
MAX_INTERVALS = 3  # 0 plus up to three steps: 3–4 tick values


@dataclass(frozen=True)
class Series:
    """One bar per day in ``css_class``, named ``label`` in the legend and tooltips."""

    label: str
    values: list[int]
    css_class: str


def daily_chart(
    days: list[dt.date], series: list[Series], *, title: str, width: int = 640, height: int = 180
) -> Markup:
    """Grouped bars per day, so every series stays visible and hoverable even where one dwarfs
    another. Raises ValueError if a series doesn't have one non-negative value per day."""
    for s in series:
        if len(s.values) != len(days):
            raise ValueError(f"series {s.label!r} has {len(s.values)} values for {len(days)} days")
        if any(v < 0 for v in s.values):
            raise ValueError(f"series {s.label!r} has a negative count")
    chart_id = _chart_id(days, series, title)
    if days and series:
        body, summary = _plot(days, series, width, height), _summary(days, series)
    else:
        body, summary = _no_data(width, height), "No data for this period."
    return Markup(
        "\n".join(
            [
                '<svg xmlns="http://www.w3.org/2000/svg" class="chart" '
                f'viewBox="0 0 {width} {height}" role="img" '
                f'aria-labelledby="{chart_id}-title" aria-describedby="{chart_id}-desc">',
                f'<title id="{chart_id}-title">{escape(title)}</title>',
                f'<desc id="{chart_id}-desc">{escape(summary)}</desc>',
                *body,
                "</svg>",
            ]
        )
    )


def _no_data(width: int, height: int) -> list[str]:
    """An empty period still gets a chart-sized box, so the page layout doesn't jump."""
    return [
        f'<text class="chart-label" x="{_n(width / 2)}" y="{_n(height / 2)}" '
        f'font-size="{FONT_SIZE}" text-anchor="middle">No data for this period</text>'
    ]


def _plot(days: list[dt.date], series: list[Series], width: int, height: int) -> list[str]:
    """Grid with y ticks, the bars, day labels and the legend."""
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    base = TOP + plot_h
    peak = max(1, *(max(s.values) for s in series))
    step = _tick_step(peak)
    top = step * -(-peak // step)  # the peak rounded up to a whole step
    slot = plot_w / len(days)
    parts: list[str] = []

    for tick in range(0, top + 1, step):
        y = _n(base - tick / top * plot_h)
        if tick:  # 0 sits on the axis line
            parts.append(
                f'<line class="chart-grid" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y}" y2="{y}"/>'
            )
        parts.append(
            f'<text class="chart-label" x="{LEFT - 6}" y="{y}" dy="0.32em" font-size="{FONT_SIZE}" '
            f'text-anchor="end">{_compact(tick)}</text>'
        )

    bar_w = min(slot * 0.8 / len(series), MAX_BAR_WIDTH)
    for i, day in enumerate(days):
        x0 = LEFT + i * slot + (slot - bar_w * len(series)) / 2
        for j, s in enumerate(series):
            h = s.values[i] / top * plot_h
            parts.append(
                f'<rect class="{escape(s.css_class)}" x="{_n(x0 + j * bar_w)}" y="{_n(base - h)}" '
                f'width="{_n(bar_w)}" height="{_n(h)}">'
                f"<title>{day.isoformat()}: {s.values[i]} {escape(s.label)}</title></rect>"
            )
    parts.append(
        f'<line class="chart-axis" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{base}" y2="{base}"/>'
    )

    # counted back from the last day, so that today always has its label
    for i in sorted(range(len(days) - 1, -1, -_label_every(slot))):
        parts.append(
            f'<text class="chart-label" x="{_n(LEFT + (i + 0.5) * slot)}" y="{base + 14}" '
            f'font-size="{FONT_SIZE}" text-anchor="middle">{_day_label(days[i])}</text>'
        )

    x = LEFT
    for s in series:
        parts += [
            f'<rect class="{escape(s.css_class)}" x="{x}" y="6" width="10" height="10"/>',
            f'<text class="chart-label" x="{x + 14}" y="15" font-size="{FONT_SIZE}">'
            f"{escape(s.label)}</text>",
        ]
        x += 14 + len(s.label) * CHAR_WIDTH + 16
    return parts


def _chart_id(days: list[dt.date], series: list[Series], title: str) -> str:
    """An id derived from the input, so output stays deterministic while two different charts
    on one page don't share the id their aria-labelledby points at."""
    key = repr((title, [d.isoformat() for d in days], [(s.label, s.values) for s in series]))
    return "chart-" + hashlib.sha256(key.encode()).hexdigest()[:10]


def _summary(days: list[dt.date], series: list[Series]) -> str:
    """What a screen reader announces: role="img" hides the bars' own tooltips from it."""
    totals = "; ".join(f"{s.label}: {sum(s.values)} total" for s in series)
    return f"{days[0].isoformat()} to {days[-1].isoformat()}. {totals}."


def _tick_step(peak: int) -> int:
    """The smallest 1-2-5 step that reaches the peak in at most MAX_INTERVALS steps. Counts are
    whole numbers, so a peak of 1 gets just the ticks 0 and 1 rather than a 0.5."""
    magnitude = 1
    while True:
        for mantissa in (1, 2, 5):
            step = mantissa * magnitude
            if -(-peak // step) <= MAX_INTERVALS:
                return step
        magnitude *= 10


def _label_every(slot: float) -> int:
    """Label every day, 2nd or 3rd day when they fit; otherwise weekly (or 2, 4… weeks), which
    reads naturally for long ranges."""
    for every in (1, 2, 3):
        if every * slot >= MIN_LABEL_GAP:
            return every
    every = 7
    while every * slot < MIN_LABEL_GAP:
        every *= 2
    return every


def _day_label(day: dt.date) -> str:
    """Like "Mar 4"; spelled out here because strftime("%b") follows the server's locale."""
    return f"{MONTHS[day.month - 1]} {day.day}"


def _compact(value: int) -> str:
    """1.5k, 10k, 3M: tick labels must fit the narrow left margin."""
    for size, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if value >= size:
            return f"{value / size:.1f}".removesuffix(".0") + suffix
    return str(value)


def _n(value: float) -> str:
    """Coordinates to two decimals: shorter markup and stable output."""
    return f"{value:.2f}".rstrip("0").rstrip(".")
