"""Celery tasks of the statistics. They only call stats.rollup."""

import logging

from celery import shared_task

from . import rollup

logger = logging.getLogger(__name__)


@shared_task(name="stats.tasks.roll_up_finished_days", ignore_result=True)
def roll_up_finished_days() -> int:
    """SPEC §6: the periodic rollup (every 10 minutes, from beat); returns how many center-days it wrote."""
    done = rollup.roll_up_finished_days()
    for rolled in done:
        logger.info("statistics of %s rolled up: %s to %s", rolled.center.slug, rolled.first, rolled.last)
    return sum(rolled.days for rolled in done)
