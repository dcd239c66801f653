"""R16: a report (신고) blocks the customer and sends an excerpt to the channel operator, signed, retried.

The operator's end is a real HTTP server on loopback (consultations/tests/receiver.py);
Celery runs in process, so retries happen at once (backoff 0 here).
"""

import hashlib
import hmac
from datetime import timedelta

import pytest

from consultations.channel import report_delivery
from consultations.models import CloseReason, Message, Status
from counsel_center import clock
from customers import rules as customer_rules
from customers.models import Block, Report

from .helpers import T0, customer_writes, in_progress_with, incoming_file, refused

pytestmark = pytest.mark.django_db

NOT_REPORTABLE = "Only obscene (음란) or gambling (도박) can be reported to the channel operator."


@pytest.fixture(autouse=True)
def _delivery_settings(settings, monkeypatch):
    settings.DELIVERY_TIMEOUT_SECONDS = 1
    settings.DELIVERY_MAX_ATTEMPTS = 3
    settings.DELIVERY_BACKOFF_SECONDS = 0
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def outbound(center, receiver):
    center.outbound_url = receiver.url
    center.save(update_fields=["outbound_url"])
    return receiver


@pytest.fixture
def report(customer, manager, django_capture_on_commit_callbacks):
    """Mina reports the customer for gambling; the delivery runs on commit."""

    def report(**kwargs):
        kwargs.setdefault("reason", Block.Reason.GAMBLING)
        with django_capture_on_commit_callbacks(execute=True):
            block = customer_rules.do_block_customer(customer, actor=manager, report=True, **kwargs)
        return Report.objects.get(block=block)

    return report


@pytest.mark.parametrize("reason", [Block.Reason.ABUSE, Block.Reason.PROMOTION])
def test_a_report_is_refused_for_abuse_and_promotion(center, customer, manager, reason):
    open_one = customer_writes(center, "광고입니다", user_key=customer.user_key).consultation

    with refused("not_reportable", NOT_REPORTABLE):
        customer_rules.do_block_customer(customer, actor=manager, reason=reason, report=True)

    assert not Block.objects.exists()
    assert not Report.objects.exists()
    open_one.refresh_from_db()
    assert open_one.status == Status.UNASSIGNED


def test_a_report_blocks_closes_and_keeps_the_customers_last_20_messages_in_order(center, customer, agent, report):
    consultation = in_progress_with(center, agent, at=T0, user_key=customer.user_key)  # "문의드립니다" + an answer
    for n in range(1, 25):
        with clock.frozen_at(T0 + timedelta(minutes=n)):
            if n == 24:
                customer_writes(center, "", user_key=customer.user_key, kind=Message.Kind.FILE,
                                attachment=incoming_file("casino.pdf"))  # fmt: skip
            else:
                customer_writes(center, f"도박 광고 {n}", user_key=customer.user_key)

    filed = report(note="도박 사이트 광고")

    assert len(filed.excerpt) == 20
    assert [line["text"] for line in filed.excerpt[:-1]] == [f"도박 광고 {n}" for n in range(5, 24)]
    assert filed.excerpt[-1] == {
        "sent_at": (T0 + timedelta(minutes=24)).isoformat(),
        "kind": "file",
        "text": "",
        "file": "casino.pdf",
    }
    assert all(line["kind"] == "text" and line["file"] is None for line in filed.excerpt[:-1])
    block = filed.block
    assert (block.reason, block.note, block.blocked_by.user.username) == ("gambling", "도박 사이트 광고", "mina")
    consultation.refresh_from_db()
    assert (consultation.status, consultation.close_reason) == (Status.CLOSED, CloseReason.CUSTOMER_BLOCKED)


def test_the_report_is_delivered_signed_once_with_its_own_event_type(center, customer, outbound, report):
    with clock.frozen_at(T0):
        customer_writes(center, "도박 사이트 홍보", user_key=customer.user_key)

    filed = report(reason=Block.Reason.OBSCENE, note="음란물 전송")

    filed.refresh_from_db()
    assert (filed.delivery_state, filed.delivery_attempts, filed.delivery_error) == ("sent", 1, "")
    assert filed.delivered_at is not None
    [request] = outbound.requests
    assert request.headers["Idempotency-Key"] == f"report-{filed.pk}"
    timestamp = request.headers["X-Channel-Timestamp"]
    mac = hmac.new(center.webhook_secret.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256)
    assert request.headers["X-Channel-Signature"] == f"sha256={mac.hexdigest()}"
    assert request.json == {
        "type": "report",
        "report_id": filed.pk,
        "center": "alpha",
        "customer": {"user_key": customer.user_key, "customer_id": customer.customer_id},
        "reason": "obscene",
        "note": "음란물 전송",
        "reported_at": filed.block.blocked_at.isoformat(),
        "messages": [{"sent_at": T0.isoformat(), "kind": "text", "text": "도박 사이트 홍보", "file": None}],
    }


def test_a_temporary_failure_is_retried_until_the_operator_takes_it(outbound, report):
    outbound.answer(503, 503, 200)

    filed = report()

    filed.refresh_from_db()
    assert (filed.delivery_state, filed.delivery_attempts) == ("sent", 3)
    assert {request.headers["Idempotency-Key"] for request in outbound.requests} == {f"report-{filed.pk}"}


def test_it_fails_after_the_attempts_and_a_manager_sends_it_again(
    outbound, report, manager, agent, django_capture_on_commit_callbacks
):
    outbound.answer(503)
    filed = report()
    filed.refresh_from_db()
    assert (filed.delivery_state, filed.delivery_attempts) == ("failed", 3)
    assert filed.delivery_error.startswith("HTTP 503")

    with refused("not_admin", "Only a master or a manager can send a report again."):
        customer_rules.do_retry_report(filed, actor=agent)
    outbound.answer(200)
    with django_capture_on_commit_callbacks(execute=True):
        customer_rules.do_retry_report(filed, actor=manager)

    filed.refresh_from_db()
    assert (filed.delivery_state, filed.delivery_attempts, filed.delivery_error) == ("sent", 4, "")
    with refused("not_failed", "Only a report whose delivery failed or is waiting can be sent again."):
        customer_rules.do_retry_report(filed, actor=manager)


def test_without_an_outbound_url_the_report_waits_pending(center, receiver, report):
    filed = report()

    filed.refresh_from_db()
    assert (filed.delivery_state, filed.delivery_attempts, filed.delivery_due_at) == ("pending", 0, None)
    assert receiver.requests == []
    with clock.frozen_at(clock.now() + timedelta(hours=1)):
        assert report_delivery.redeliver_stalled_reports() == 0  # nothing due: the sweep leaves it waiting


def test_a_waiting_report_goes_out_when_a_manager_sends_it_after_the_url_is_set(
    center, receiver, report, manager, django_capture_on_commit_callbacks
):
    filed = report()  # no outbound URL yet: it waits
    center.outbound_url = receiver.url
    center.save(update_fields=["outbound_url"])

    with django_capture_on_commit_callbacks(execute=True):
        customer_rules.do_retry_report(filed, actor=manager)

    filed.refresh_from_db()
    assert (filed.delivery_state, filed.delivery_attempts) == ("sent", 1)
    assert len(receiver.requests) == 1


def test_a_stalled_report_is_queued_again_by_the_sweep(outbound, customer, manager):
    block = customer_rules.do_block_customer(customer, actor=manager, reason=Block.Reason.GAMBLING, report=True)
    filed = Report.objects.get(block=block)  # its on-commit enqueue never ran: as if the task was lost

    with clock.frozen_at(clock.now() + timedelta(minutes=2)):
        assert report_delivery.redeliver_stalled_reports() == 1

    filed.refresh_from_db()
    assert filed.delivery_state == "sent"
    assert len(outbound.requests) == 1


def test_the_block_stays_if_the_report_cannot_go_out(center, customer, manager, report, closed_port_url):
    center.outbound_url = closed_port_url
    center.save(update_fields=["outbound_url"])

    filed = report()

    filed.refresh_from_db()
    assert filed.delivery_state == "failed"
    assert "Connection failed" in filed.delivery_error
    assert customer.is_blocked  # the block does not wait for the operator
