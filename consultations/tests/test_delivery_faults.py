"""Outbound delivery (SPEC §7, docs/channel.md) when parts fail: a real Celery worker killed mid-delivery, and an
outbound endpoint that is down for a while.

Real parts throughout: `celery -A counsel_center worker` in a process group of
its own (consultations/tests/worker.py) on the test database and a private
Redis broker, which the test process publishes to as well; a real HTTP
receiver on loopback (receiver.py). Messages are sent with
`lifecycle.do_send_message`, as the console sends them, and queued when they
commit; the author's retry is the chat pane's button, posted as the browser
posts it.
"""

from __future__ import annotations

import html
import re
import urllib.parse
from collections import Counter
from datetime import timedelta

import pytest
from django.urls import reverse

from consultations import lifecycle
from consultations.channel import delivery, report_delivery, signing
from consultations.models import DeliveryState, Message, Status
from counsel_center import clock
from customers import rules
from customers.models import Block, Report
from customers.tests.factories import CustomerFactory

from .live import eventually, needs_postgresql, needs_redis
from .receiver import HOLD, running_receiver
from .worker import celery_app_on, start_celery_worker

pytestmark = [pytest.mark.django_db(transaction=True), needs_postgresql, needs_redis, pytest.mark.slow]

KEY = delivery.IDEMPOTENCY_HEADER
HX = {"HTTP_HX_REQUEST": "true", "HTTP_ACCEPT_LANGUAGE": "en"}
# The worker's settings (counsel_center/settings.py reads them from its environment). A held request must stay in
# flight until the test kills the worker, so the crash test's timeout is long; the sweep's clock is moved past it.
CRASH_SETTINGS = {"DELIVERY_TIMEOUT_SECONDS": 20, "DELIVERY_MAX_ATTEMPTS": 3, "DELIVERY_BACKOFF_SECONDS": 1}
DOWN_SETTINGS = {"DELIVERY_TIMEOUT_SECONDS": 2, "DELIVERY_MAX_ATTEMPTS": 3, "DELIVERY_BACKOFF_SECONDS": 1}
SETTLE_SECONDS = 30  # a bound on waits for the worker, never an expectation of speed


@pytest.fixture
def broker(private_redis):
    """The test process queues to the private Redis, where the worker takes tasks from."""
    with celery_app_on(private_redis.url) as app:
        yield app


@pytest.fixture
def workers(transactional_db, private_redis, broker, tmp_path):
    """Start a worker with the given settings; each is killed, and its database sessions gone, at the end.

    Killed rather than shut down warmly: nothing of its broker (the private
    Redis) outlives the test, and a warm shutdown costs seconds.
    """
    started = []

    def start(delivery_settings: dict[str, int]):
        name = f"dlv{len(started) + 1}"
        environment = {key: str(value) for key, value in delivery_settings.items()}
        worker = start_celery_worker(name, tmp_path, broker_url=private_redis.url, environment=environment)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()


@pytest.fixture
def alice(client, agent):
    client.force_login(agent.user)
    return client


@pytest.fixture
def outbound(center):
    """Point the center's outbound URL at `url`."""

    def point_at(url: str) -> None:
        center.outbound_url = url
        center.save(update_fields=["outbound_url"])

    return point_at


@pytest.fixture
def consultation(agent, make_consultation):
    return make_consultation(status=Status.IN_PROGRESS, assignee=agent)


# --- what the receiver and the agent see ----------------------------------------------------------


def kept_once_per_key(requests) -> dict[str, dict]:
    """A receiver that follows the contract: the first request of each Idempotency-Key is kept, repeats dropped."""
    kept: dict[str, dict] = {}
    for request in requests:
        kept.setdefault(request.headers[KEY], request.json)
    return kept


def check_signed(center, request) -> None:
    """Raises unless the request is signed with the center's secret over its exact bytes, recently."""
    signing.verify(
        center.webhook_secret,
        timestamp=request.headers.get(signing.TIMESTAMP_HEADER),
        given=request.headers.get(signing.SIGNATURE_HEADER),
        body=request.body,
    )


MESSAGE_LINE = re.compile(r'<li class="msg msg-agent" id="message-(\d+)">(.*?)</li>', re.DOTALL)
SHOWN_STATE = re.compile(r'<span class="msg-delivery msg-delivery-\w+"[^>]*>([^<]+)</span>')
RETRY_ACTION = re.compile(r'hx-post="([^"]+/retry[^"]*)"')


def chat_lines(client, consultation) -> dict[int, str]:
    """The agent messages of the chat pane as the agent's browser gets it: id → that line's HTML."""
    response = client.get(reverse("chat-pane", args=[consultation.public_id]), **HX)
    assert response.status_code == 200
    return {int(pk): line for pk, line in MESSAGE_LINE.findall(response.content.decode())}


def shown_state(line: str) -> str:
    return SHOWN_STATE.search(line).group(1)


def delivery_of(message: Message) -> tuple[str, int, str]:
    message.refresh_from_db()
    return message.delivery_state, message.delivery_attempts, message.delivery_error


# --- the worker dies mid-delivery ---------------------------------------------------------------------

MESSAGES = 10


def claimed_but_unfinished() -> set[str]:
    """The Idempotency-Keys of attempts counted but never finished: in flight when the worker died."""
    messages = Message.objects.filter(delivery_state=DeliveryState.PENDING, delivery_attempts__gt=0)
    reports = Report.objects.filter(delivery_state=Report.State.PENDING, delivery_attempts__gt=0)
    return {str(pk) for pk in messages.values_list("pk", flat=True)} | {
        report_delivery.idempotency_key(pk) for pk in reports.values_list("pk", flat=True)
    }


def test_a_worker_killed_mid_delivery_loses_nothing_and_repeats_only_what_was_in_flight(
    workers, receiver, outbound, center, consultation, agent, master, alice
):
    outbound(receiver.url)
    receiver.answer(200, 200, 200, HOLD)  # three go through, then every request is held open
    first = workers(CRASH_SETTINGS)
    texts = [f"주문 확인 안내 {n}번입니다" for n in range(1, MESSAGES + 1)]
    messages = []
    for n, text in enumerate(texts):
        messages.append(lifecycle.do_send_message(consultation, actor=agent, text=text))
        if n == MESSAGES // 2:  # a report to the channel operator goes out the same way, among them
            gambler = CustomerFactory(center=center)
            block = rules.do_block_customer(gambler, actor=master, reason=Block.Reason.GAMBLING, report=True)
    report = Report.objects.get(block=block)
    expected = {str(message.pk) for message in messages} | {report_delivery.idempotency_key(report.pk)}

    eventually(lambda: receiver.held, timeout=SETTLE_SECONDS, message="a request held open by the receiver")
    first.kill()  # SIGKILL, prefork children included: nothing is finished, acknowledged or handed back
    in_flight = claimed_but_unfinished()
    held = {request.headers[KEY] for request in receiver.held}
    assert held <= in_flight
    receiver.answer(200)  # the endpoint answers again; the held requests now answer a closed connection
    receiver.release.set()

    # Beat runs this sweep every minute; it takes up attempts more than STALL_GRACE_SECONDS overdue, and a claimed
    # attempt is due DELIVERY_TIMEOUT_SECONDS + STALL_GRACE_SECONDS after its claim (80 s here). Run in the test with
    # its clock 3 minutes on, past both, it queues on the real broker what the dead worker had taken, without the
    # real wait; the restarted worker runs those tasks.
    unfinished = Message.objects.filter(delivery_state=DeliveryState.PENDING).count()
    unfinished += Report.objects.filter(delivery_state=Report.State.PENDING).count()
    with clock.frozen_at(clock.now() + timedelta(minutes=3)):
        assert delivery.redeliver_stalled() + report_delivery.redeliver_stalled_reports() == unfinished
    workers(CRASH_SETTINGS)

    def all_sent() -> bool:
        states = set(Message.objects.filter(pk__in=[m.pk for m in messages]).values_list("delivery_state", flat=True))
        return states == {DeliveryState.SENT} and Report.objects.get(pk=report.pk).delivery_state == Report.State.SENT

    eventually(all_sent, timeout=SETTLE_SECONDS, message="every message and the report sent")

    keys = Counter(request.headers[KEY] for request in receiver.requests)
    assert set(keys) == expected
    repeated = {key for key, count in keys.items() if count > 1}
    assert held <= repeated  # an attempt cut off mid-request is made again: at least once on the wire, not exactly
    assert repeated <= in_flight  # nothing that had finished, or had not started, is sent twice
    first_bodies: dict[str, bytes] = {}
    for request in receiver.requests:
        check_signed(center, request)
        assert request.body == first_bodies.setdefault(request.headers[KEY], request.body)  # a repeat is the same
    kept = kept_once_per_key(receiver.requests)  # the contract promises no order (docs/channel.md): none is checked
    assert len(kept) == MESSAGES + 1
    assert sorted(item["message"]["text"] for item in kept.values() if item["type"] == "message") == sorted(texts)
    assert kept[report_delivery.idempotency_key(report.pk)]["customer"]["user_key"] == gambler.user_key
    lines = chat_lines(alice, consultation)
    assert {pk: shown_state(line) for pk, line in lines.items()} == {message.pk: "Sent" for message in messages}


# --- the outbound endpoint is down for a while -------------------------------------------------------------


def test_an_endpoint_down_past_the_last_attempt_fails_the_message_and_the_authors_retry_sends_it(
    workers, receiver, outbound, consultation, agent, alice
):
    outbound(receiver.url)
    receiver.answer(503)
    workers(DOWN_SETTINGS)

    message = lifecycle.do_send_message(consultation, actor=agent, text="배송은 내일 도착 예정입니다")
    eventually(lambda: delivery_of(message)[0] == DeliveryState.FAILED, timeout=SETTLE_SECONDS)

    assert delivery_of(message) == (DeliveryState.FAILED, 3, "HTTP 503: upstream says no (503)")
    first, second, third = (request.at for request in receiver.requests)
    assert second - first >= 1  # DELIVERY_BACKOFF_SECONDS after the first failure,
    assert third - second >= 2  # twice that after the second: lower bounds, the worker may be later
    line = chat_lines(alice, consultation)[message.pk]
    assert shown_state(line) == "Failed"
    assert 'title="HTTP 503: upstream says no (503)"' in line  # the last error, on the state
    assert "Send again" in line

    receiver.answer(200)  # the endpoint is back; the author presses "Send again", as the browser posts it
    response = alice.post(html.unescape(RETRY_ACTION.search(line).group(1)), **HX)
    assert response.status_code == 200
    assert shown_state(MESSAGE_LINE.search(response.content.decode()).group(2)) == "Sending"
    eventually(lambda: delivery_of(message)[0] == DeliveryState.SENT, timeout=SETTLE_SECONDS)

    assert delivery_of(message) == (DeliveryState.SENT, 4, "")
    assert [request.answer for request in receiver.requests] == [503, 503, 503, 200]
    assert [request.headers[KEY] for request in receiver.requests] == [str(message.pk)] * 4
    assert receiver.requests[-1].json["message"]["text"] == "배송은 내일 도착 예정입니다"
    assert shown_state(chat_lines(alice, consultation)[message.pk]) == "Sent"


def test_an_endpoint_back_before_the_attempts_run_out_gets_the_message_without_a_retry(
    workers, closed_port_url, outbound, consultation, agent, alice
):
    outbound(closed_port_url)  # nothing listens there yet: connections are refused
    workers(DOWN_SETTINGS)

    message = lifecycle.do_send_message(consultation, actor=agent, text="잠시만 기다려 주세요")
    eventually(lambda: delivery_of(message)[2], timeout=SETTLE_SECONDS, interval=0.02, message="a failed attempt")
    state, _, error = delivery_of(message)
    assert state == DeliveryState.PENDING  # to be retried after DELIVERY_BACKOFF_SECONDS
    assert error.startswith("Connection failed")
    line = chat_lines(alice, consultation)[message.pk]
    assert shown_state(line) == "Sending"
    assert f'title="{html.escape(error)}"' in line  # the last error, on the state
    with running_receiver(port=urllib.parse.urlsplit(closed_port_url).port) as receiver:  # the endpoint is back
        eventually(lambda: delivery_of(message)[0] == DeliveryState.SENT, timeout=SETTLE_SECONDS)

    state, attempts, error = delivery_of(message)
    assert (state, error) == (DeliveryState.SENT, "")
    assert attempts in (2, 3)  # within the budget of DOWN_SETTINGS' 3 attempts, no author's retry
    assert [request.headers[KEY] for request in receiver.requests] == [str(message.pk)]
    assert shown_state(chat_lines(alice, consultation)[message.pk]) == "Sent"
