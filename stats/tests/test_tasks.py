"""The nightly rollup as Celery runs it: scheduled beside the idle auto-close job, run through the task."""

from datetime import timedelta

import pytest
from celery.schedules import crontab

from consultations.tests.helpers import customer_writes
from counsel_center import clock
from counsel_center.celery import app
from stats import rollup
from stats.models import DailyStat
from stats.tasks import roll_up_finished_days


def beat_entry(task: str) -> dict:
    app.finalize()
    return next(entry for entry in app.conf.beat_schedule.values() if entry["task"] == task)


def test_beat_runs_the_rollup_every_ten_minutes_beside_the_idle_close_job():
    rollup_entry = beat_entry("stats.tasks.roll_up_finished_days")

    assert rollup_entry["schedule"] == crontab(minute="*/10")
    assert beat_entry("consultations.tasks.close_idle_consultations")  # the same schedule holds both


@pytest.mark.django_db
def test_the_task_rolls_up_yesterday_through_celery(center):
    yesterday = rollup.last_finished_day(center)
    with clock.frozen_at(rollup.day_start(center, yesterday) + timedelta(hours=9)):
        customer_writes(center, "어제 문의", user_key="yesterday")

    result = roll_up_finished_days.delay()  # eager in the tests (conftest.py): through Celery's own call path

    assert result.get() == rollup.RANGE_DAYS  # the first run fills the whole range
    assert DailyStat.objects.get(center=center, day=yesterday).inbound == 1
    assert roll_up_finished_days.delay().get() == 0  # nothing left until the next midnight
