"""SVG charts for the insights page: valid, accessible, CSP-safe markup a reader can hover."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from itertools import pairwise

import pytest

from server.charts import Series, daily_chart

SVG = "{http://www.w3.org/2000/svg}"
DAY_LABEL = re.compile(r"^[A-Z][a-z]{2} \d{1,2}$")


def days(count: int) -> list[dt.date]:
    return [dt.date(2024, 3, 1) + dt.timedelta(days=i) for i in range(count)]


def parse(days_: list[dt.date], series: list[Series], **kwargs: int) -> ET.Element:
    return ET.fromstring(str(daily_chart(days_, series, title="Searches per day", **kwargs)))


def bars(svg: ET.Element) -> list[ET.Element]:
    """The hoverable bars: legend swatches are rects too, but without a tooltip."""
    return [rect for rect in svg.iter(f"{SVG}rect") if rect.find(f"{SVG}title") is not None]


def title_of(element: ET.Element) -> str:
    """The chart's accessible name, or a bar's hover text."""
    title = element.find(f"{SVG}title")
    assert title is not None
    return title.text or ""


def tick_labels(svg: ET.Element) -> list[str]:
    return [t.text or "" for t in svg.iter(f"{SVG}text") if t.get("text-anchor") == "end"]


def texts(svg: ET.Element) -> list[str]:
    return [t.text or "" for t in svg.iter(f"{SVG}text")]


def test_is_an_accessible_scalable_svg_image() -> None:
    svg = parse(days(7), [Series("Searches", [1, 2, 3, 4, 5, 6, 7], "s-searches")])
    assert svg.tag == f"{SVG}svg" and svg.get("role") == "img"
    assert svg.get("viewBox") == "0 0 640 180" and svg.get("width") is None
    assert title_of(svg) == "Searches per day"
    labelled_by = svg.get("aria-labelledby")
    assert svg.find(f"{SVG}title[@id='{labelled_by}']") is not None


def test_one_bar_per_day_and_series_with_its_exact_value_on_hover() -> None:
    searches = [i * 37 % 101 for i in range(30)]
    clicks = [i % 4 for i in range(30)]
    series = [Series("Searches", searches, "s-searches"), Series("Clicks", clicks, "s-clicks")]
    svg = parse(days(30), series)
    found = bars(svg)
    assert len(found) == 60
    expected = {f"{d.isoformat()}: {v} Searches" for d, v in zip(days(30), searches, strict=True)}
    expected |= {f"{d.isoformat()}: {v} Clicks" for d, v in zip(days(30), clicks, strict=True)}
    assert {title_of(bar) for bar in found} == expected
    tallest = max(found, key=lambda bar: float(bar.get("height", 0)))
    assert title_of(tallest).endswith(f": {max(searches)} Searches")
    for bar in found:
        x, y, w, h = (float(bar.get(a, "nan")) for a in ("x", "y", "width", "height"))
        assert w > 0 and h >= 0 and x >= 0 and x + w <= 640 and y >= 0 and y + h <= 180


@pytest.mark.parametrize("count", [7, 30, 60, 90])
def test_day_labels_are_thinned_so_they_never_overlap(count: int) -> None:
    svg = parse(days(count), [Series("Searches", [1] * count, "s-searches")])
    labels = [t for t in svg.iter(f"{SVG}text") if DAY_LABEL.match(t.text or "")]
    last = days(count)[-1]
    assert labels[-1].text == f"{last:%b} {last.day}"  # the last day, today, always has one
    assert len(labels) <= 13  # 90 days: one label a week
    xs = [float(t.get("x", "nan")) for t in labels]
    assert all(b - a >= 40 for a, b in pairwise(xs))  # "Mar 30" is ~36px wide


def test_hostile_labels_and_title_are_escaped() -> None:
    hostile = '<script>alert("x")</script>'
    markup = str(daily_chart(days(2), [Series(hostile, [1, 2], "s-x")], title="Q&A <b>bold</b>"))
    assert "<script>" not in markup and "<b>" not in markup
    svg = ET.fromstring(markup)
    assert title_of(svg) == "Q&A <b>bold</b>"
    assert hostile in texts(svg)
    assert title_of(bars(svg)[0]) == f"2024-03-01: 1 {hostile}"


def test_safe_under_a_strict_style_src_policy() -> None:
    svg = parse(days(14), [Series("Searches", list(range(14)), "s-searches")])
    assert all("style" not in element.attrib for element in svg.iter())
    assert svg.find(f".//{SVG}style") is None
    assert {bar.get("class") for bar in bars(svg)} == {"s-searches"}


@pytest.mark.parametrize(
    ("days_", "series"), [([], []), ([], [Series("Searches", [], "s")]), (days(3), [])]
)
def test_no_data_is_said_in_words(days_: list[dt.date], series: list[Series]) -> None:
    svg = parse(days_, series)
    assert svg.get("role") == "img" and "No data for this period" in texts(svg)
    assert bars(svg) == []


def test_all_zero_and_single_day_still_draw_an_axis() -> None:
    svg = parse(days(5), [Series("Searches", [0] * 5, "s-searches")])
    assert tick_labels(svg) == ["0", "1"]
    assert all(bar.get("height") == "0" for bar in bars(svg))
    one = parse(days(1), [Series("Searches", [3], "s-searches")])
    assert len(bars(one)) == 1 and "Mar 1" in texts(one)
    assert float(bars(one)[0].get("width", "nan")) <= 30  # a bar, not a slab across the chart


@pytest.mark.parametrize(
    ("peak", "ticks"),
    [
        (12, ["0", "5", "10", "15"]),
        (1_234, ["0", "500", "1k", "1.5k"]),
        (12_345, ["0", "5k", "10k", "15k"]),
        (3_000_000, ["0", "1M", "2M", "3M"]),
        (4_200_000_000, ["0", "2B", "4B", "6B"]),
    ],
)
def test_y_axis_has_a_few_round_compact_ticks(peak: int, ticks: list[str]) -> None:
    svg = parse(days(3), [Series("Searches", [0, peak // 2, peak], "s-searches")])
    assert tick_labels(svg) == ticks


def test_same_input_gives_the_same_markup() -> None:
    series = [Series("Searches", [4, 8, 15], "s-searches")]
    assert daily_chart(days(3), series, title="t") == daily_chart(days(3), series, title="t")


def test_series_with_a_value_missing_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="2 values for 3 days"):
        daily_chart(days(3), [Series("Searches", [1, 2], "s-searches")], title="t")
