"""Daily statistics rolled up from the consultations, in the database (SPEC §6, docs/stats.md).

A day is the center's local day, midnight to midnight in its time zone. Each
measure of a day depends only on moments inside that day (requested, first
answered, closed), so once a day is over its numbers never change: a finished
day rolled up once is final, and rolling it up again writes the same row.

`roll_up` writes any range of days with four queries per center, whatever the
range: three grouped aggregates (by the day of each moment) and one upsert.
`roll_up_finished_days` is the nightly job: for every center, each finished
day after the last one rolled up, so it catches up after beat or the worker
was down.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from consultations.models import Consultation
from counsel_center.models import Center

from .models import DailyStat

# The statistics cover at most this many days, up to yesterday (SPEC §6).
RANGE_DAYS = 92
_FIELDS = [
    "inbound",
    "completed",
    "closed_same_day",
    "first_response_count",
    "first_response_seconds",
    "conversation_seconds",
    "rolled_up_at",
]


@dataclass(frozen=True)
class Rolled:
    center: Center
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def day_start(center: Center, day: date) -> datetime:
    """Local midnight at the start of `day`, as an aware datetime (right across DST changes)."""
    return datetime.combine(day, time.min, tzinfo=center.zone)


def last_finished_day(center: Center, *, now: datetime | None = None) -> date:
    """The center's latest local day that is over, with STATS_ROLLUP_DELAY_MINUTES to spare: usually yesterday.

    The delay lets transactions that were running at midnight commit before their day is read.
    """
    now = now or timezone.now()
    settled = now - timedelta(minutes=settings.STATS_ROLLUP_DELAY_MINUTES)
    return timezone.localtime(settled, center.zone).date() - timedelta(days=1)


def _seconds(duration: timedelta | None) -> int:
    return round(duration.total_seconds()) if duration else 0


def _between(field: str, center: Center, first: date, last: date) -> Q:
    return Q(**{f"{field}__gte": day_start(center, first), f"{field}__lt": day_start(center, last + timedelta(days=1))})


def _by_day(center: Center, field: str, condition: Q):
    """The center's consultations whose `field` falls in the range, grouped by that moment's local day."""
    return (
        Consultation.objects.filter(condition, center=center)
        .annotate(day=TruncDate(field, tzinfo=center.zone))
        .values("day")
        .order_by("day")
    )


def _duration(later: str, earlier: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(later) - F(earlier), output_field=DurationField())


def measure(center: Center, first: date, last: date, *, now: datetime | None = None) -> list[DailyStat]:
    """The rows of `first`..`last` (both included), computed, not saved; a day with nothing is a row of zeros."""
    now = now or timezone.now()
    zone = center.zone
    requested = _by_day(center, "requested_at", _between("requested_at", center, first, last)).annotate(
        closed_day=TruncDate("closed_at", tzinfo=zone)
    )
    inbound = {
        row["day"]: row
        for row in requested.values("day").annotate(
            inbound=Count("pk"), closed_same_day=Count("pk", filter=Q(closed_day=F("day")))
        )
    }
    completed = {
        row["day"]: row
        for row in _by_day(
            center, "closed_at", _between("closed_at", center, first, last) & Q(first_response_at__isnull=False)
        ).annotate(completed=Count("pk"), seconds=Sum(_duration("closed_at", "first_response_at")))
    }
    answered = {
        row["day"]: row
        for row in _by_day(center, "first_response_at", _between("first_response_at", center, first, last)).annotate(
            count=Count("pk"), seconds=Sum(_duration("first_response_at", "requested_at"))
        )
    }
    rows = []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        came, done, first_answers = inbound.get(day, {}), completed.get(day, {}), answered.get(day, {})
        rows.append(
            DailyStat(
                center=center,
                day=day,
                inbound=came.get("inbound", 0),
                closed_same_day=came.get("closed_same_day", 0),
                completed=done.get("completed", 0),
                conversation_seconds=_seconds(done.get("seconds")),
                first_response_count=first_answers.get("count", 0),
                first_response_seconds=_seconds(first_answers.get("seconds")),
                rolled_up_at=now,
            )
        )
    return rows


def roll_up(center: Center, first: date, last: date, *, now: datetime | None = None) -> Rolled:
    """Write the rows of `first`..`last` (both included): the same rows however often it runs, other days untouched."""
    if first > last:
        raise ValueError(f"first ({first}) is after last ({last})")
    rows = measure(center, first, last, now=now)
    DailyStat.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["center", "day"], update_fields=_FIELDS, batch_size=500
    )
    return Rolled(center, first, last)


def roll_up_finished_days(*, now: datetime | None = None) -> list[Rolled]:
    """The nightly job: for each center, every finished day after its last rolled-up one (at most RANGE_DAYS)."""
    now = now or timezone.now()
    done = []
    for center in Center.objects.annotate(last_rolled=Max("daily_stats__day")).order_by("pk"):
        last = last_finished_day(center, now=now)
        earliest = last - timedelta(days=RANGE_DAYS - 1)
        first = max(center.last_rolled + timedelta(days=1), earliest) if center.last_rolled else earliest
        if first <= last:
            done.append(roll_up(center, first, last, now=now))
    return done
