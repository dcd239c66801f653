"""The 7-day chart of the 통계 page, laid out on the server and drawn by the template as inline SVG.

Every position is a percentage of the SVG's box, with no viewBox: the chart
stretches to any width (390 px phone, 1440 px desktop) while its text and
dots keep their pixel size, so nothing is scaled down to unreadable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import cycle, pairwise
from math import ceil

from django.utils.dateformat import format as format_date

from stats.report import Bucket

from .stats_format import Measure, count, duration

# The plot area inside the box, in percent: room for the axis labels above the
# top gridline and under the bottom one, and for the end dates' half widths.
LEFT, RIGHT, TOP, BOTTOM = 5.0, 97.0, 10.0, 84.0
TICKS = 4  # gridlines above zero, at most
# Gridline steps for times, in seconds: whole seconds, minutes and hours a reader can add up.
TIME_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    title: str  # the tooltip: period, measure and value


@dataclass(frozen=True)
class Segment:
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class Series:
    measure: Measure
    dots: list[Dot]
    segments: list[Segment]  # between neighbouring buckets that both have a value


@dataclass(frozen=True)
class Gridline:
    y: float
    label: str


@dataclass(frozen=True)
class DateLabel:
    x: float
    text: str
    minor: bool  # hidden on a phone, where every other date is enough


@dataclass(frozen=True)
class Chart:
    series: list[Series]
    gridlines: list[Gridline]
    dates: list[DateLabel]


def _step(maximum: float, *, is_time: bool) -> int:
    """The smallest readable step that covers `maximum` in TICKS gridlines."""
    if is_time:
        return next((step for step in TIME_STEPS if step * TICKS >= maximum), ceil(maximum / TICKS / 86400) * 86400)
    step, factors = 1, cycle((2, 2.5, 2))  # 1, 2, 5, 10, 20, 50, …
    while step * TICKS < maximum:
        step = round(step * next(factors))
    return step


def period(bucket: Bucket) -> str:
    return f"{format_date(bucket.first, 'n/j')}–{format_date(bucket.last, 'n/j')}"


def line_chart(buckets: Sequence[Bucket], measures: Sequence[Measure]) -> Chart:
    """One line per measure over the buckets, oldest on the left; a bucket without a value leaves a gap."""
    is_time = measures[0].kind == "duration"
    values = [[measure.of(bucket.totals) for bucket in buckets] for measure in measures]
    highest = max((value for row in values for value in row if value is not None), default=0)
    step = _step(highest, is_time=is_time)
    top = step * max(1, ceil(highest / step))
    spacing = (RIGHT - LEFT) / max(1, len(buckets) - 1)

    def x(index: int) -> float:
        return round(LEFT + index * spacing, 2)

    def y(value: float) -> float:
        return round(BOTTOM - (BOTTOM - TOP) * value / top, 2)

    series = []
    for measure, row in zip(measures, values, strict=True):
        dots = {
            index: Dot(x(index), y(value), f"{period(bucket)} · {measure.label} {measure.show(bucket.totals)}")
            for index, (bucket, value) in enumerate(zip(buckets, row, strict=True))
            if value is not None
        }
        segments = [
            Segment(dots[a].x, dots[a].y, dots[b].x, dots[b].y)
            for a, b in pairwise(range(len(buckets)))
            if a in dots and b in dots
        ]
        series.append(Series(measure, list(dots.values()), segments))
    gridlines = [
        Gridline(y(value), duration(value) if is_time and value else count(value)) for value in range(0, top + 1, step)
    ]
    newest = len(buckets) - 1
    dates = [
        DateLabel(x(index), format_date(bucket.first, "n/j"), (newest - index) % 2 == 1)
        for index, bucket in enumerate(buckets)
    ]
    return Chart(series, gridlines, dates)
