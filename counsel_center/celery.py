"""The Celery app: broker from settings (Redis, or kombu's filesystem broker)."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "counsel_center.settings")

app = Celery("counsel_center")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def setup_periodic_tasks(sender: Celery, **kwargs) -> None:
    from django.conf import settings

    sender.add_periodic_task(
        settings.IDLE_SWEEP_SECONDS,
        sender.signature("consultations.tasks.close_idle_consultations"),
        name="close idle consultations (R9.4)",
    )
    sender.add_periodic_task(
        60.0,
        sender.signature("consultations.delivery.redeliver_stalled"),
        name="re-queue stalled deliveries",
    )
    sender.add_periodic_task(
        60.0,
        sender.signature("consultations.report_delivery.redeliver_stalled_reports"),
        name="re-queue stalled reports",
    )
    sender.add_periodic_task(
        60.0,
        sender.signature("consultations.thumbnails.sweep_thumbnails"),
        name="re-queue stalled thumbnails",
    )
    # Every 10 minutes: each center's finished days are rolled up soon after its own local midnight.
    sender.add_periodic_task(
        crontab(minute="*/10"),
        sender.signature("stats.tasks.roll_up_finished_days"),
        name="roll up daily statistics (SPEC §6)",
    )
