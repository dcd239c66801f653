"""Outbound delivery of reports (신고) to the channel operator (R16, SPEC §7; docs/channel.md).

A report goes out as agent messages do (delivery.py): a signed
JSON POST to the center's outbound URL by a Celery task, one attempt per run,
each attempt claimed with a conditional UPDATE, the POST outside any
transaction, retried with backoff, then `sent` or `failed`; a master or a
manager may send a failed one again (customers.rules.do_retry_report). The
receiver sees the same `Idempotency-Key` (`report-<id>`) on every attempt.
With no outbound URL the report stays pending, and the console says so.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.db.models import F

from counsel_center import clock
from customers.models import Report

from . import delivery

logger = logging.getLogger("consultations.report_delivery")  # its name before it moved here: log filters know it


def idempotency_key(report_id: int) -> str:
    return f"report-{report_id}"


def payload(report: Report) -> dict:
    """The JSON the operator receives. `report` needs its block, customer and center loaded."""
    block = report.block
    customer = block.customer
    return {
        "type": "report",
        "report_id": report.pk,
        "center": block.customer.center.slug,
        "customer": {"user_key": customer.user_key, "customer_id": customer.customer_id},
        "reason": block.reason,
        "note": block.note,
        "reported_at": block.blocked_at.isoformat(),
        "messages": report.excerpt,
    }


def enqueue(report_id: int, *, after_attempt: int) -> bool:
    """Queue an attempt now; False (logged) when the broker is down: the sweep takes it up later."""
    return delivery.queue_attempt(deliver_report, report_id, after_attempt=after_attempt, what="report")


def _pending(report_id: int, attempts: int):
    return Report.objects.filter(pk=report_id, delivery_state=Report.State.PENDING, delivery_attempts=attempts)


def _finish(report_id: int, *, attempts: int, state: str, error: str = "") -> bool:
    at = clock.now()
    return bool(
        _pending(report_id, attempts).update(
            delivery_state=state,
            delivery_error=error[:500],
            delivered_at=at if state == Report.State.SENT else None,
            delivery_due_at=None,
        )
    )


@shared_task(name="consultations.report_delivery.deliver_report", ignore_result=True)
def deliver_report(report_id: int, *, after_attempt: int | None = None, round_attempt: int = 1) -> str:
    """Make one delivery attempt of a report, and queue the next one after a temporary failure."""
    report = Report.objects.select_related("block__customer__center").filter(pk=report_id).first()
    if report is None or report.delivery_state != Report.State.PENDING:
        return "skipped"
    center = report.block.customer.center
    if after_attempt is None:
        after_attempt = report.delivery_attempts
    if not center.outbound_url:
        # Nowhere to send it: it waits (the console says so) until an outbound URL is set and it is sent again.
        _pending(report_id, after_attempt).update(delivery_due_at=None)
        return "no_outbound_url"
    lost_after = clock.now() + timedelta(seconds=delivery.timeout_seconds() + delivery.STALL_GRACE_SECONDS)
    claimed = _pending(report_id, after_attempt).update(
        delivery_attempts=F("delivery_attempts") + 1, delivery_due_at=lost_after
    )
    if not claimed:
        return "claimed_elsewhere"
    attempts = after_attempt + 1

    body = delivery.encode(payload(report))
    headers = delivery.request_headers(center.webhook_secret, body, idempotency_key(report_id))
    outcome = delivery.post(center.outbound_url, body, headers, timeout=delivery.timeout_seconds())

    if outcome.ok:
        _finish(report_id, attempts=attempts, state=Report.State.SENT)
        logger.info("report %s delivered (attempt %s)", report_id, attempts)
        return "sent"
    if not outcome.retry or round_attempt >= delivery.max_attempts():
        _finish(report_id, attempts=attempts, state=Report.State.FAILED, error=outcome.error)
        logger.warning("report %s delivery failed after attempt %s: %s", report_id, attempts, outcome.error)
        return "failed"
    countdown = delivery.backoff_seconds(round_attempt)
    _pending(report_id, attempts).update(
        delivery_error=outcome.error[:500], delivery_due_at=clock.now() + timedelta(seconds=countdown)
    )
    deliver_report.apply_async(
        args=[report_id], kwargs={"after_attempt": attempts, "round_attempt": round_attempt + 1}, countdown=countdown
    )
    return "retrying"


@shared_task(name="consultations.report_delivery.redeliver_stalled_reports", ignore_result=True)
def redeliver_stalled_reports() -> int:
    """Re-queue pending reports whose attempt is overdue (periodic, beat)."""
    return delivery.requeue_stalled(
        Report.objects.filter(delivery_state=Report.State.PENDING), deliver_report, what="report"
    )
