"""`manage.py rollup_stats`: a range rebuilt on demand, as operators call it and as the shell runs it."""

import os
import subprocess
import sys
from datetime import date, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from consultations.tests.helpers import customer_writes
from counsel_center import clock
from stats import rollup
from stats.models import DailyStat

ROOT = Path(__file__).resolve().parents[2]
NUMBERS = ("id", "center", "day", "inbound", "completed", "closed_same_day", "first_response_count",
           "first_response_seconds", "conversation_seconds")  # fmt: skip


class Terminal(StringIO):
    """An output that says it is a terminal, as a shell's would."""

    def isatty(self) -> bool:
        return True


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("rollup_stats", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_by_default_it_rebuilds_the_last_92_days_of_every_center(center, other_center):
    out, err = run()

    assert out.startswith("Rolled up 184 days for 2 centers in ")
    assert out.rstrip().endswith(" s.")
    assert err == ""  # no progress bar when the output is not a terminal
    assert DailyStat.objects.filter(center=center).count() == 92
    assert DailyStat.objects.filter(center=center).latest("day").day == rollup.last_finished_day(center)


@pytest.mark.django_db
def test_a_range_of_one_center_is_rebuilt_idempotently(center, other_center):
    day = rollup.last_finished_day(center) - timedelta(days=3)
    with clock.frozen_at(rollup.day_start(center, day) + timedelta(hours=10)):
        customer_writes(center, "문의", user_key="one")
    since, until = day - timedelta(days=1), day + timedelta(days=1)

    out, _ = run("--center", "alpha", "--since", since.isoformat(), "--until", until.isoformat())
    once = list(DailyStat.objects.order_by("day").values(*NUMBERS))
    run("--center", "alpha", "--since", since.isoformat(), "--until", until.isoformat())

    assert out.startswith("Rolled up 3 days for 1 center in ")
    assert list(DailyStat.objects.order_by("day").values(*NUMBERS)) == once
    assert [row["inbound"] for row in once] == [0, 1, 0]
    assert not DailyStat.objects.filter(center=other_center).exists()


@pytest.mark.django_db
def test_on_a_terminal_it_draws_a_progress_bar(center):
    out, err = StringIO(), Terminal()

    call_command("rollup_stats", "--center", "alpha", stdout=out, stderr=err)

    bar = err.getvalue()
    assert "[" + "#" * 30 + "] 92/92 days" in bar
    assert bar.count("\r") == 14  # one step per batch of 7 days: 13 batches and the last day
    assert out.getvalue().startswith("Rolled up 92 days for 1 center")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--center", "nowhere"], "No center has the slug “nowhere”."),
        (["--since", "2026-13-01"], "“2026-13-01” is not a date: use YYYY-MM-DD."),
        (["--until", "yesterday"], "“yesterday” is not a date: use YYYY-MM-DD."),
        (["--since", "2026-11-02", "--until", "2026-11-01"], "--since 2026-11-02 is after --until 2026-11-01."),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_error(center, args, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(")):
        run(*args)
    assert not DailyStat.objects.exists()


@pytest.mark.django_db
def test_a_day_that_is_not_over_is_refused(center):
    today = rollup.last_finished_day(center) + timedelta(days=1)

    with pytest.raises(CommandError, match=f"--until {today} is not over yet for alpha"):
        run("--until", today.isoformat())


# --- as the shell runs it -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_from_the_shell_it_prints_the_summary_and_exits_zero(center):
    done = shell("--center", "alpha", "--since", "2026-11-01", "--until", "2026-11-07")

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Rolled up 7 days for 1 center in ")
    assert DailyStat.objects.filter(center=center, day__range=(date(2026, 11, 1), date(2026, 11, 7))).count() == 7


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--center", "nowhere"], 1, "No center has the slug “nowhere”."),
        (["--since", "11/01/2026"], 2, "argument --since: “11/01/2026” is not a date"),
        (["--since", "2026-11-07", "--until", "2026-11-01"], 1, "--since 2026-11-07 is after --until 2026-11-01."),
    ],
)
def test_from_the_shell_a_bad_argument_exits_non_zero(center, args, code, message):
    done = shell(*args)

    assert done.returncode == code
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def shell(*args: str) -> subprocess.CompletedProcess:
    from consultations.tests.live import database_url_for

    env = {
        **os.environ,
        "DATABASE_URL": database_url_for("rollup-command-test"),
        "DJANGO_SETTINGS_MODULE": "counsel_center.settings",
    }
    return subprocess.run(  # noqa: S603 (a fixed command line)
        [sys.executable, "manage.py", "rollup_stats", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
