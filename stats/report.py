"""What the 통계 screens show, read from the daily rollups only (SPEC §6, docs/stats.md).

One query reads the range's rows; everything else is arithmetic on them. Every
average is a sum divided by a count over the days it covers (never an average
of daily averages); a measure with nothing to average is None, shown as "–".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from counsel_center.models import Center

from .models import DailyStat
from .rollup import RANGE_DAYS, last_finished_day

BUCKET_DAYS = 7


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class Totals:
    """Sums and counts over some days; the measures derived from them."""

    inbound: int = 0
    completed: int = 0
    closed_same_day: int = 0
    first_response_count: int = 0
    first_response_seconds: int = 0
    conversation_seconds: int = 0

    @classmethod
    def of(cls, rows) -> Totals:
        fields = cls.__dataclass_fields__
        return cls(**{name: sum(getattr(row, name) for row in rows) for name in fields})

    @property
    def same_day_rate(self) -> float | None:
        """당일 상담완료율, in percent."""
        rate = _ratio(self.closed_same_day, self.inbound)
        return None if rate is None else 100 * rate

    @property
    def first_response_average(self) -> float | None:
        """평균 첫 응대시간, seconds."""
        return _ratio(self.first_response_seconds, self.first_response_count)

    @property
    def conversation_average(self) -> float | None:
        """평균 대화시간, seconds (over the completed consultations)."""
        return _ratio(self.conversation_seconds, self.completed)


@dataclass(frozen=True)
class Day:
    day: date
    totals: Totals


@dataclass(frozen=True)
class Bucket:
    """Seven days, `first` to `last` included."""

    first: date
    last: date
    totals: Totals


def percent_change(current: int, previous: int | None) -> float | None:
    """Change against the previous bucket in percent; None where there is nothing to compare with (0 or missing)."""
    if not previous:
        return None
    return 100 * (current - previous) / previous


def seconds_change(current: float | None, previous: float | None) -> float | None:
    """Change of an average time in seconds; None unless both buckets have one."""
    if current is None or previous is None:
        return None
    return current - previous


@dataclass(frozen=True)
class Report:
    first: date
    last: date
    days: list[Day]  # oldest first, one per day of the range, rolled up or not
    buckets: list[Bucket]  # oldest first; the newest ends on `last`
    version: str = ""  # when the newest of its rows was rolled up: what is drawn from it changes only with this

    @property
    def latest(self) -> Bucket | None:
        return self.buckets[-1] if self.buckets else None

    @property
    def previous(self) -> Bucket | None:
        return self.buckets[-2] if len(self.buckets) > 1 else None

    @property
    def is_empty(self) -> bool:
        return not any(d.totals.inbound or d.totals.completed or d.totals.first_response_count for d in self.days)

    def change(self, measure: str) -> float | None:
        """The latest bucket against the one before: percent for counts, seconds for the average times."""
        if self.latest is None:
            return None
        current = getattr(self.latest.totals, measure)
        previous = getattr(self.previous.totals, measure) if self.previous else None
        if measure.endswith("_average"):
            return seconds_change(current, previous)
        return percent_change(current, previous)


def report_for(center: Center, *, now: datetime | None = None) -> Report:
    """The last RANGE_DAYS days up to the center's yesterday, in 7-day buckets ending yesterday (one query)."""
    last = last_finished_day(center, now=now)
    first = last - timedelta(days=RANGE_DAYS - 1)
    stored = {row.day: row for row in DailyStat.objects.for_range(center, first, last)}
    days = [
        Day(day, Totals.of([stored[day]]) if day in stored else Totals())
        for day in (first + timedelta(days=n) for n in range(RANGE_DAYS))
    ]
    buckets = []
    end = len(days)
    while end - BUCKET_DAYS >= 0:  # whole buckets only: 92 days make 13 (the oldest day is in the table alone)
        chunk = days[end - BUCKET_DAYS : end]
        buckets.append(Bucket(chunk[0].day, chunk[-1].day, Totals.of([d.totals for d in chunk])))
        end -= BUCKET_DAYS
    buckets.reverse()
    newest = max((row.rolled_up_at for row in stored.values()), default=None)
    return Report(first=first, last=last, days=days, buckets=buckets, version=newest.isoformat() if newest else "")
