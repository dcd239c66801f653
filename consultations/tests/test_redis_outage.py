"""Redis stops mid-run and comes back, under a steady load (issue 19): nothing lost, nothing answered 5xx.

As production splits them (docs/operations.md): the webhook and the pages on
a gunicorn `gthread` web process, the stream on uvicorn, both on one Redis
of this test's own (cache, broker, doorbell) that it kills and starts again
on the same port. Client threads post a new customer message every 50 ms
each throughout, and an agent's stream is open throughout.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass

import pytest
from django.db import connection

from consultations.live.doorbell import channel
from consultations.models import ChannelEvent, Consultation, Event, Message

from .live import (
    ChannelConnection,
    Posted,
    eventually,
    get,
    needs_postgresql,
    needs_redis,
    open_stream,
    session_cookie,
    signed_request,
    text_event,
)

pytestmark = [pytest.mark.django_db(transaction=True), needs_redis, needs_postgresql]

POSTERS = 3
INTERVAL_SECONDS = 0.05  # each poster's pause between answers
MESSAGES_PER_CUSTOMER = 4  # then the poster writes as a new customer: consultations keep being opened
ANSWER_TIMEOUT_SECONDS = 10  # a webhook that takes longer counts as hung
STEADY = 20  # answers to see in each phase before moving on
# The stream sends an Event once every transaction begun before it has ended, in the whole PostgreSQL
# cluster (docs/operations.md, "Long transactions"): on a shared machine another test run's transaction
# holds it back too. A bound, not a measure: the waits end as soon as the message is there.
STREAM_WAIT_SECONDS = 30


@dataclass
class Sent:
    event_id: str
    posted: Posted | None = None
    error: str = ""


class Posters:
    """POSTERS threads, each posting a signed customer message, waiting for its answer, pausing, until stopped."""

    def __init__(self, server, center) -> None:
        self.server = server
        self.center = center
        self.sent: list[Sent] = []
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._post, args=(n,), name=f"poster-{n}") for n in range(POSTERS)]

    def __enter__(self) -> Posters:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=ANSWER_TIMEOUT_SECONDS + 5)
        assert not any(thread.is_alive() for thread in self.threads), "a poster hung"

    def _post(self, n: int) -> None:
        connection = ChannelConnection(self.server, timeout=ANSWER_TIMEOUT_SECONDS)
        number = 0
        while not self.stopping.is_set():
            user_key = f"steady-{n}-{number // MESSAGES_PER_CUSTOMER}"
            sent = Sent(f"outage-{n}-{number}")
            event = text_event(
                sent.event_id, f"{user_key}의 {number % MESSAGES_PER_CUSTOMER + 1}번째 문의", user_key=user_key
            )
            try:
                sent.posted = connection.post(self.center.slug, *signed_request(self.center, event))
            except Exception as error:  # recorded: the test fails on it
                sent.error = repr(error)
            self.sent.append(sent)  # list.append is atomic
            number += 1
            self.stopping.wait(INTERVAL_SECONDS)
        connection.close()

    def answered_after(self, moment: float) -> list[Posted]:
        """The 200 answers to requests sent after `moment` (time.monotonic())."""
        return [s.posted for s in list(self.sent) if s.posted and s.posted.status == 200 and s.posted.sent_at > moment]

    def failures(self) -> list[tuple]:
        """Each request not answered 200 in time: its event id and what happened instead."""
        sent = list(self.sent)
        return [(s.event_id, s.error) for s in sent if s.error] + [
            (s.event_id, s.posted.status, s.posted.body) for s in sent if s.posted and s.posted.status != 200
        ]

    def steady(self, moment: float, phase: str) -> int:
        """Until STEADY requests sent after `moment` are answered 200, failing at the first that is not;
        the id of the last one's message."""
        eventually(lambda: self.failures() or len(self.answered_after(moment)) >= STEADY, message=f"answers {phase}")
        assert not self.failures(), f"webhooks not answered 200 {phase}: {self.failures()[:5]}"
        return self.answered_after(moment)[-1].body["message_id"]


def oldest_writer() -> str:
    """The cluster's oldest transaction that has written: until it ends, streams hold back every later Event
    (docs/operations.md, "Long transactions"), whichever database it writes to."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT datname, application_name, now() - xact_start FROM pg_stat_activity"
            " WHERE backend_xid IS NOT NULL ORDER BY xact_start LIMIT 1"
        )
        row = cursor.fetchone()
    return f"the oldest writing transaction: {row}"


class Watched:
    """An open stream whose every message is kept, whatever a wait skips over."""

    def __init__(self, client) -> None:
        self.client = client
        self.seen = []

    def until(self, predicate, what: str, timeout: float = STREAM_WAIT_SECONDS):
        """The first message for which `predicate` holds; every message up to it is kept."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                message = self.client.next(timeout=max(deadline - time.monotonic(), 0.001))
            except AssertionError as error:
                created = len(self.created())
                raise AssertionError(
                    f"{error}, waiting for {what} ({created} message.created so far); {oldest_writer()}"
                ) from None
            self.seen.append(message)
            if predicate(message):
                return message

    def until_message(self, message_id: int, timeout: float = STREAM_WAIT_SECONDS):
        return self.until(
            lambda m: m.event == Event.Kind.MESSAGE and m.json["message"] == message_id,
            f"message {message_id}",
            timeout,
        )

    def catch_up(self, expected: list[int], timeout: float = STREAM_WAIT_SECONDS) -> None:
        """Until as many message.created as the `expected` Event ids have arrived, then whatever else has."""
        deadline = time.monotonic() + timeout
        while len(self.created()) < len(expected):
            remaining = max(deadline - time.monotonic(), 0.001)
            missing = sorted(set(expected) - {created["id"] for created in self.created()})
            self.until(lambda m: m.event == Event.Kind.MESSAGE, f"Events {missing[:10]}", remaining)
        self.seen += self.client.pending()

    def created(self) -> list[dict]:
        return [m.json for m in self.seen if m.event == Event.Kind.MESSAGE]


def test_redis_stopping_and_returning_under_load_loses_nothing_and_fails_no_request(
    live_servers, private_redis, center, agent
):
    # debug: the console page finds its static files without collectstatic (live.py)
    web = live_servers.start(
        "outage-web", wsgi=True, debug=True, redis=private_redis.url, environment={"DB_POOL_MAX_SIZE": "4"}
    )
    streamer = live_servers.start("outage-stream", redis=private_redis.url, heartbeat_seconds=0.5)
    cookie = session_cookie(agent.user)
    bell = channel(center.pk)

    with open_stream(streamer, cookie) as client:
        assert client.preamble == ["live doorbell"]
        stream = Watched(client)
        with Posters(web, center) as posters:
            start = time.monotonic()
            stream.until_message(posters.steady(start, "with Redis up"))

            private_redis.kill()
            killed = time.monotonic()
            newest_before = Consultation.objects.filter(center=center).order_by("-pk").values_list("pk", flat=True)[0]
            opened_since = Consultation.objects.filter(center=center, pk__gt=newest_before)
            stream.until(lambda m: "live polling" in m.comments, "live polling")
            # Webhooks keep answering and storing; the stream delivers them by polling.
            stream.until_message(posters.steady(killed, "with Redis down"))
            # Pages answer, and show the consultations opened during the outage (the newest on top).
            eventually(lambda: opened_since.count() >= 3, message="consultations opened during the outage")
            opened = list(opened_since.order_by("-last_activity_at").values_list("public_id", flat=True)[:3])
            status, page = get(web, "/consultations/?scope=all&tab=unassigned", headers={"Cookie": cookie})
            assert status == 200, web.log()[-5000:]
            assert all(public_id.encode() in page for public_id in opened), opened
            assert private_redis.process.poll() is not None  # all of that while Redis was still down

            private_redis.start()  # same port: neither server's settings change
            restarted = time.monotonic()
            stream.until(lambda m: "live doorbell" in m.comments, "live doorbell")
            assert private_redis.subscribers(bell) == 1  # the stream process subscribed again ...
            with private_redis.client() as redis_client, redis_client.pubsub() as rings:
                rings.subscribe(bell)  # ... and the web process rings again
                eventually(lambda: (rings.get_message(timeout=0.5) or {}).get("type") == "message", message="a ring")
            stream.until_message(posters.steady(restarted, "with Redis back"))

        # The stream delivers every message.created Event, in the stream's order, exactly once.
        expected = list(
            Event.objects.filter(center=center, kind=Event.Kind.MESSAGE)
            .order_by("xid", "id")
            .values_list("id", flat=True)
        )
        stream.catch_up(expected)
    assert [created["id"] for created in stream.created()] == expected

    # Every webhook answered 200 in time, and every event is stored exactly once.
    sent = posters.sent
    print(
        f"\n{len(sent)} events: {sum(s.posted.sent_at < killed for s in sent if s.posted)} before the outage,"
        f" {sum(killed < s.posted.sent_at < restarted for s in sent if s.posted)} during it"
    )
    assert not posters.failures(), f"{len(posters.failures())} webhooks not answered 200: {posters.failures()[:5]}"
    recorded = Counter(ChannelEvent.objects.filter(center=center).values_list("event_id", flat=True))
    assert recorded == Counter(s.event_id for s in sent)
    stored = Counter(Message.objects.filter(consultation__center=center).values_list("channel_event_id", flat=True))
    assert stored == recorded
    messages = dict(Message.objects.filter(consultation__center=center).values_list("channel_event_id", "pk"))
    assert messages == {s.event_id: s.posted.body["message_id"] for s in sent}
    assert sorted(created["message"] for created in stream.created()) == sorted(messages.values())

    # Both processes saw the outage, and said so in one warning, not a traceback.
    assert "publish to Redis failed" in web.log()
    assert "Redis subscription lost" in streamer.log()
    for server in (web, streamer):
        assert "Traceback" not in server.log(), server.log()[-5000:]
