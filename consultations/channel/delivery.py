"""Outbound delivery of agent messages to the center's outbound URL (SPEC §7).

`lifecycle.do_send_message` and `do_retry_delivery` leave a message `pending`
and queue `deliver_message` on commit. One run of the task is one attempt:

1. claim it with a conditional UPDATE (`pending`, and still at the attempt
   count this run expects) that also counts the attempt, so two copies of the
   same task never post the same attempt twice;
2. POST the signed JSON outside any transaction (a slow receiver must not hold
   database locks);
3. write the outcome with another conditional UPDATE: `sent`, `failed`, or
   still `pending` with the last error while Celery retries with backoff.

`sent` and `failed` each append a `message.delivery` Event in the same short
transaction as the state change, for the live updates.

Every attempt carries the same `Idempotency-Key` (the message id), so the
receiver keeps the message at most once whatever we repeat.
"""

from __future__ import annotations

import http.client
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import F
from kombu.exceptions import OperationalError

from counsel_center import clock

from ..live import doorbell
from ..models import Attachment, DeliveryState, Event, Message
from . import file_links, signing

logger = logging.getLogger("consultations.delivery")  # its name before it moved here: log filters know it

USER_AGENT = "counsel-center"
IDEMPOTENCY_HEADER = "Idempotency-Key"
# How much of a refusing receiver's answer is kept in `delivery_error`.
ERROR_BODY_CHARS = 200
# How long past its due time a pending attempt may be before the sweep takes it up again.
STALL_GRACE_SECONDS = 60
# Statuses that say "not now" rather than "never": retried like a 5xx.
RETRYABLE_4XX = frozenset({408, 429})


@dataclass(frozen=True)
class Outcome:
    """What one POST came to. `retry` is meaningful only when not `ok`."""

    ok: bool
    error: str = ""
    retry: bool = False


# --- settings (their defaults: counsel_center/settings.py, "Outbound delivery") -------------


def timeout_seconds() -> float:
    return max(1, settings.DELIVERY_TIMEOUT_SECONDS)


def max_attempts() -> int:
    return max(1, settings.DELIVERY_MAX_ATTEMPTS)


def backoff_seconds(attempt: int) -> int:
    """The wait after the `attempt`-th failed attempt (1-based): base, 2×base, 4×base, … capped."""
    base = settings.DELIVERY_BACKOFF_SECONDS
    cap = settings.DELIVERY_BACKOFF_MAX_SECONDS
    return max(0, min(base * 2 ** (attempt - 1), cap))


# --- the request ----------------------------------------------------------------


def payload(message: Message) -> dict:
    """The JSON delivered for an agent message. `message` needs consultation, its customer, and attachment loaded."""
    consultation = message.consultation
    customer = consultation.customer
    return {
        "type": "message",
        "message_id": message.pk,
        "consultation_id": consultation.public_id,
        "customer": {"user_key": customer.user_key, "customer_id": customer.customer_id},
        "message": {"kind": message.kind, "text": message.text, "file": _file_payload(message)},
        "sent_at": message.created_at.isoformat(),
    }


def _file_payload(message: Message) -> dict | None:
    """The file as the channel fetches it: a signed link that needs no session and expires (docs/channel.md)."""
    try:
        attachment = message.attachment
    except Attachment.DoesNotExist:
        return None
    center = message.consultation.center
    expires_at = clock.now() + timedelta(seconds=settings.ATTACHMENT_LINK_MAX_AGE_SECONDS)
    return {
        "name": attachment.name,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "content_type": attachment.content_type,
        "url": file_links.channel_link(attachment, center_id=center.pk, slug=center.slug),
        "url_expires_at": expires_at.isoformat(),
    }


def encode(data: dict) -> bytes:
    """Compact UTF-8 JSON: the exact bytes that are signed are the bytes sent."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def request_headers(secret: str, body: bytes, idempotency_key: int | str) -> dict[str, str]:
    """The headers of a signed POST; `idempotency_key` is the same on every attempt (a message id, `report-<id>`)."""
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        IDEMPOTENCY_HEADER: str(idempotency_key),
        **signing.signed_headers(secret, body),
    }


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is answered as an error: a signed POST is not replayed (or turned into a GET) elsewhere."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> Outcome:
    """POST `body` and classify the answer. Never raises for network or HTTP failures."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        return Outcome(ok=False, error=f"Unsupported outbound URL: {url[:100]}")
    # The scheme is checked above: only http(s), never file: or ftp:.
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=timeout) as response:
            response.read(64 * 1024)  # drain a little, so the connection ends cleanly
            return Outcome(ok=True)
    except urllib.error.HTTPError as error:
        status = error.code
        text = _read_error_body(error)
        failure = f"HTTP {status}: {text}" if text else f"HTTP {status}"
        retry = status >= 500 or status in RETRYABLE_4XX
        # 3xx and the other 4xx: the receiver refuses this message or the URL is wrong; repeating will not help.
        return Outcome(ok=False, error=failure, retry=retry)
    except urllib.error.URLError as error:
        if isinstance(error.reason, TimeoutError):
            return Outcome(ok=False, error=f"Timed out after {timeout:g} s", retry=True)
        return Outcome(ok=False, error=f"Connection failed: {error.reason}", retry=True)
    except TimeoutError:  # raised bare while waiting for the answer
        return Outcome(ok=False, error=f"Timed out after {timeout:g} s", retry=True)
    except (http.client.HTTPException, OSError) as error:  # reset, closed mid-answer, bad status line
        return Outcome(ok=False, error=f"Connection failed: {error!r}", retry=True)
    except ValueError as error:  # http.client.InvalidURL and friends
        return Outcome(ok=False, error=f"Invalid outbound URL: {error}")


def _read_error_body(error: urllib.error.HTTPError) -> str:
    try:
        raw = error.read(4 * ERROR_BODY_CHARS)
    except (OSError, http.client.HTTPException):
        return ""
    return raw.decode("utf-8", "replace").strip()[:ERROR_BODY_CHARS]


# --- state changes --------------------------------------------------------------


def claim_attempt(message_id: int, *, after: int) -> bool:
    """Count one more attempt if the message is still pending at `after` attempts; False if another run has it.

    One UPDATE, so the check and the increment cannot be split by another worker.
    """
    claimed = Message.objects.filter(pk=message_id, delivery_state=DeliveryState.PENDING, delivery_attempts=after)
    # If this worker dies mid-request, the sweep takes the message up again once this passes.
    lost_after = clock.now() + timedelta(seconds=timeout_seconds() + STALL_GRACE_SECONDS)
    return claimed.update(delivery_attempts=F("delivery_attempts") + 1, delivery_due_at=lost_after) == 1


def record_retry_error(message_id: int, *, attempts: int, error: str, countdown: int) -> None:
    """Between attempts the state stays pending; the last error shows in the chat pane."""
    Message.objects.filter(pk=message_id, delivery_state=DeliveryState.PENDING, delivery_attempts=attempts).update(
        delivery_error=error[:500],
        delivery_due_at=clock.now() + timedelta(seconds=countdown),
    )


def finish(message: Message, *, attempts: int, state: str, error: str = "") -> bool:
    """Move a pending message at `attempts` attempts to `sent` or `failed`, with its Event; False if it moved on."""
    if state not in (DeliveryState.SENT, DeliveryState.FAILED):
        raise ValueError(f"not a final delivery state: {state!r}")
    at = clock.now()
    with transaction.atomic():
        changed = Message.objects.filter(
            pk=message.pk, delivery_state=DeliveryState.PENDING, delivery_attempts=attempts
        ).update(
            delivery_state=state,
            delivery_error=error[:500],
            delivered_at=at if state == DeliveryState.SENT else None,
            delivery_due_at=None,
        )
        if not changed:
            return False
        consultation = message.consultation
        data = {"message_id": message.pk, "delivery_state": state, "attempts": attempts}
        if error:
            data["error"] = error[:500]
        Event.objects.create(
            center_id=consultation.center_id,
            consultation=consultation,
            customer_id=consultation.customer_id,
            kind=Event.Kind.DELIVERY,
            created_at=at,
            data=data,
        )
        doorbell.ring_on_commit(consultation.center_id)
    return True


# --- the task -------------------------------------------------------------------


def schedule_next_attempt(message_id: int, *, after_attempt: int, round_attempt: int, countdown: int) -> None:
    """Queue the next attempt in `countdown` seconds.

    An explicit apply_async rather than `self.retry()`: with
    task_eager_propagates (the tests) `retry()` raises `Retry` out of
    `.delay()` instead of running the retry, and the attempt numbers travel in
    the arguments anyway.
    """
    deliver_message.apply_async(
        args=[message_id],
        kwargs={"after_attempt": after_attempt, "round_attempt": round_attempt},
        countdown=countdown,
    )


def queue_attempt(task, object_id: int, *, after_attempt: int, what: str) -> bool:
    """Queue `task` for one attempt now; False (logged) when the broker cannot be reached.

    Never raises for a broker outage: the caller's work is committed (an
    agent's message, a report), and the row stays pending with its due time,
    so the stalled sweep queues it again once the broker is back.
    """
    try:
        task.delay(object_id, after_attempt=after_attempt)
    except (OperationalError, OSError) as error:
        logger.warning("%s %s: delivery not queued, the broker is unreachable (%s)", what, object_id, error)
        return False
    return True


def requeue_stalled(pending, task, *, what: str) -> int:
    """Queue again the rows of `pending` whose attempt is more than STALL_GRACE_SECONDS overdue (at most 500).

    A lost task, a worker that died mid-request, a broker outage. The claim in
    the task still decides: a queued attempt that is merely late finds the
    count moved on when its copy runs.
    """
    cutoff = clock.now() - timedelta(seconds=STALL_GRACE_SECONDS)
    stalled = pending.filter(delivery_due_at__lt=cutoff).values_list("pk", "delivery_attempts")[:500]
    queued = 0
    for object_id, attempts in stalled:
        logger.warning("%s %s delivery stalled at attempt %s; queuing it again", what, object_id, attempts)
        if not queue_attempt(task, object_id, after_attempt=attempts, what=what):
            break  # the broker is down: the next sweep takes them all up again
        queued += 1
    return queued


def enqueue(message_id: int, *, after_attempt: int) -> bool:
    """Queue an attempt of a pending message now (`queue_attempt`)."""
    return queue_attempt(deliver_message, message_id, after_attempt=after_attempt, what="message")


@shared_task(bind=True, name="consultations.delivery.deliver_message", ignore_result=True)
def deliver_message(self, message_id: int, *, after_attempt: int | None = None, round_attempt: int = 1) -> str:
    """Make one delivery attempt of an agent message, and queue the next one after a temporary failure.

    `after_attempt` is the attempt count this run expects to find; later
    attempts are queued with it, so a duplicate of an earlier run finds the
    count moved on and posts nothing. Without it, the count read now is taken.
    `round_attempt` numbers the attempts since the message was (re)queued by
    the lifecycle: an author's retry gets the whole budget again. Returns what
    happened, for logs and tests.
    """
    message = (
        Message.objects.select_related("consultation__center", "consultation__customer", "attachment")
        .filter(pk=message_id)
        .first()
    )
    if message is None or message.delivery_state != DeliveryState.PENDING:
        return "skipped"
    center = message.consultation.center
    if after_attempt is None:
        after_attempt = message.delivery_attempts
    if not center.outbound_url:
        # The URL was removed after the message was queued: nothing to post to.
        # Failing (rather than staying "Sending" for ever) lets the author see it.
        finish(message, attempts=after_attempt, state=DeliveryState.FAILED, error="The center has no outbound URL.")
        return "no_outbound_url"
    if not claim_attempt(message_id, after=after_attempt):
        return "claimed_elsewhere"
    attempts = after_attempt + 1

    # Outside any transaction: the database is not held while the receiver answers.
    body = encode(payload(message))
    outcome = post(
        center.outbound_url,
        body,
        request_headers(center.webhook_secret, body, message.pk),
        timeout=timeout_seconds(),
    )

    if outcome.ok:
        finish(message, attempts=attempts, state=DeliveryState.SENT)
        logger.info("message %s delivered (attempt %s)", message_id, attempts)
        return "sent"
    if not outcome.retry or round_attempt >= max_attempts():
        finish(message, attempts=attempts, state=DeliveryState.FAILED, error=outcome.error)
        logger.warning("message %s delivery failed after attempt %s: %s", message_id, attempts, outcome.error)
        return "failed"
    countdown = backoff_seconds(round_attempt)
    record_retry_error(message_id, attempts=attempts, error=outcome.error, countdown=countdown)
    logger.warning(
        "message %s delivery attempt %s failed, retrying in %s s: %s", message_id, attempts, countdown, outcome.error
    )
    schedule_next_attempt(message_id, after_attempt=attempts, round_attempt=round_attempt + 1, countdown=countdown)
    return "retrying"


@shared_task(name="consultations.delivery.redeliver_stalled", ignore_result=True)
def redeliver_stalled() -> int:
    """Re-queue pending messages whose attempt is overdue (periodic, beat)."""
    return requeue_stalled(
        Message.objects.filter(delivery_state=DeliveryState.PENDING), deliver_message, what="message"
    )
