"""How the 통계 screens write their numbers: counts, rates, durations and the change against the previous 7 days.

`duration` is the one place that writes a time ("1분 20초", "1 min 20 s"):
the tiles, the tables, the chart's axis and its tooltips all go through it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import template
from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from stats.report import Totals

register = template.Library()

MISSING = "–"  # nothing to show, or nothing to compare with (never a division by zero)


@register.filter
def duration(seconds: float | None) -> str:
    """Whole seconds under an hour ("1분 20초"), hours and minutes from an hour on ("2시간 5분"); "–" for None.

    The sign is dropped: a change says its direction with an arrow.
    """
    if seconds is None:
        return MISSING
    hours, rest = divmod(round(abs(seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(hours, _("%(n)d h")), (minutes, _("%(n)d min"))]
    if not hours:
        parts.append((secs, _("%(n)d s")))
    shown = " ".join(unit % {"n": n} for n, unit in parts if n)
    return shown or _("%(n)d s") % {"n": 0}


def count(value: int) -> str:
    return number_format(value, force_grouping=True)


def rate(percent: float | None) -> str:
    """A percentage with one decimal and no sign; "–" for None."""
    # number_format cuts digits off (90.09 → "90.0"); round first.
    return MISSING if percent is None else number_format(round(abs(percent), 1), 1)


@dataclass(frozen=True)
class Measure:
    """One number of the report: a `Totals` attribute, its label, and how it is written."""

    key: str
    label: str | Promise
    kind: str  # "count", "rate" (percent) or "duration" (seconds)

    def of(self, totals: Totals) -> float | None:
        return getattr(totals, self.key)

    def show(self, totals: Totals) -> str:
        value = self.of(totals)
        if self.kind == "duration":
            return duration(value)
        return rate(value) if self.kind == "rate" else count(value)


@register.filter
def shown(totals: Totals, measure: Measure) -> str:
    """`{{ day.totals|shown:measure }}`: a table cell."""
    return measure.show(totals)


@dataclass(frozen=True)
class Change:
    """The latest 7 days against the 7 before, ready to show: the amount without its sign, and which way it went."""

    text: str
    direction: str  # "up", "down", "same", or "none" when there is nothing to compare with

    @property
    def arrow(self) -> str:
        return {"up": "↑", "down": "↓"}.get(self.direction, "")


def change(amount: float | None, measure: Measure) -> Change:
    """Percent for a count, a duration for an average time (`Report.change`); "–" where there is nothing to compare."""
    if amount is None:
        return Change(MISSING, "none")
    if measure.kind == "duration":
        text, moved = duration(amount), round(amount)
    else:
        text, moved = f"{rate(amount)}%", round(amount, 1)
    return Change(text, "same" if moved == 0 else "up" if moved > 0 else "down")
