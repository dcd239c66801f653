"""`manage.py rollup_stats`: rebuild the daily statistics of a range of days (docs/stats.md)."""

import argparse
import time
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError

from counsel_center.models import Center
from stats import rollup

# Days per query batch: the progress bar moves once per batch.
BATCH_DAYS = 7


def day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"“{text}” is not a date: use YYYY-MM-DD.") from None


class Command(BaseCommand):
    help = (
        "Rebuild the daily statistics (SPEC §6) from the consultations, for one center or all. "
        "Safe to repeat: a day rebuilt twice gets the same row. By default the last 92 days up to "
        "each center's yesterday."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--center", metavar="SLUG", help="Only this center (default: every center).")
        parser.add_argument(
            "--since", type=day, metavar="YYYY-MM-DD", help="First day (default: 91 days before --until)."
        )
        parser.add_argument(
            "--until", type=day, metavar="YYYY-MM-DD", help="Last day (default: yesterday in the center's time zone)."
        )

    def handle(self, *args, center: str | None, since: date | None, until: date | None, **options) -> None:
        if since and until and since > until:
            raise CommandError(f"--since {since} is after --until {until}.")
        centers = Center.objects.order_by("pk")
        if center is not None:
            centers = centers.filter(slug=center)
            if not centers.exists():
                raise CommandError(f"No center has the slug “{center}”.")
        plan = [(each, *self._range(each, since, until)) for each in centers]
        total = sum((last - first).days + 1 for _, first, last in plan)
        started, done = time.monotonic(), 0
        for each, first, last in plan:
            batch_first = first
            while batch_first <= last:
                batch_last = min(batch_first + timedelta(days=BATCH_DAYS - 1), last)
                rollup.roll_up(each, batch_first, batch_last)
                done += (batch_last - batch_first).days + 1
                self._progress(done, total)
                batch_first = batch_last + timedelta(days=1)
        if total and self.stderr.isatty():
            self.stderr.write("")  # end the progress line
        centers_word = "center" if len(plan) == 1 else "centers"
        self.stdout.write(
            f"Rolled up {total} days for {len(plan)} {centers_word} in {time.monotonic() - started:.1f} s."
        )

    def _range(self, center: Center, since: date | None, until: date | None) -> tuple[date, date]:
        finished = rollup.last_finished_day(center)
        last = until or finished
        if last > finished:
            raise CommandError(
                f"--until {last} is not over yet for {center.slug}: its latest finished day is {finished} "
                f"({center.time_zone})."
            )
        first = since or last - timedelta(days=rollup.RANGE_DAYS - 1)
        if first > last:
            raise CommandError(f"--since {first} is after {center.slug}'s last day {last}.")
        return first, last

    def _progress(self, done: int, total: int) -> None:
        """A bar on a terminal; nothing when the output goes to a file or a pipe (logs stay clean)."""
        if not self.stderr.isatty():
            return
        width = 30
        filled = width * done // total
        self.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} days", ending="")
        self.stderr.flush()
