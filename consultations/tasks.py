"""Celery tasks of the consultation domain. They only call lifecycle functions."""

import logging

from celery import shared_task

from . import lifecycle

logger = logging.getLogger(__name__)


@shared_task(name="consultations.tasks.close_idle_consultations", ignore_result=True)
def close_idle_consultations() -> int:
    """R9.4: the periodic sweep (every IDLE_SWEEP_SECONDS, from beat)."""
    closed = lifecycle.close_idle()
    if closed:
        logger.info("closed %d idle consultations: %s", len(closed), closed)
    return len(closed)
