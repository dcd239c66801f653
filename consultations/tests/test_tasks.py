"""The periodic idle-close job (R9.4) as Celery runs it, and the names the broker knows the tasks by."""

import importlib
from datetime import timedelta

from django.utils import timezone

from consultations import lifecycle
from consultations.models import CloseReason, Status
from consultations.tasks import close_idle_consultations
from counsel_center import clock
from counsel_center.celery import app


def test_it_is_scheduled_often_enough_to_close_at_most_a_minute_late(settings):
    app.finalize()
    schedule = app.conf.beat_schedule
    entry = next(e for e in schedule.values() if e["task"] == "consultations.tasks.close_idle_consultations")
    seconds = entry["schedule"] if isinstance(entry["schedule"], (int, float)) else entry["schedule"].seconds
    assert 0 < seconds <= 60


def test_the_tasks_keep_the_names_queued_messages_carry(settings):
    """A task's name is what the broker stores: modules that moved (consultations/channel/) kept theirs."""
    for module in [*settings.CELERY_IMPORTS, "consultations.tasks", "stats.tasks"]:  # what a worker imports
        importlib.import_module(module)
    app.finalize()

    names = {name for name in app.tasks if not name.startswith("celery.")}

    assert {
        "consultations.tasks.close_idle_consultations",
        "consultations.delivery.deliver_message",
        "consultations.delivery.redeliver_stalled",
        "consultations.report_delivery.deliver_report",
        "consultations.report_delivery.redeliver_stalled_reports",
        "consultations.thumbnails.make_thumbnail",
        "consultations.thumbnails.sweep_thumbnails",
    } <= names
    for entry in app.conf.beat_schedule.values():
        assert entry["task"] in names


def test_it_closes_an_idle_consultation_through_the_lifecycle(center, agent, make_consultation):
    consultation = make_consultation(status=Status.WAITING, assignee=agent)
    long_ago = timezone.now() - timedelta(minutes=center.idle_close_minutes + 1)
    with clock.frozen_at(long_ago):
        lifecycle.do_send_message(consultation, actor=agent, text="확인 후 답변 부탁드립니다.")

    result = close_idle_consultations.apply()

    assert result.get() == 1
    consultation.refresh_from_db()
    assert consultation.status == Status.CLOSED
    assert consultation.close_reason == CloseReason.IDLE_TIMEOUT
    assert consultation.events.filter(kind="consultation.closed", actor__isnull=True).count() == 1
