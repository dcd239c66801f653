"""Load without loss (issue 19): 5,000 signed webhook events from 16 concurrent clients, as production serves them.

The server is gunicorn with two `gthread` workers of four threads and a
psycopg pool, the web processes of docs/operations.md. 500 customers send
4,500 distinct events, about 3 % of them `!종료` (R9.1), plus 500 exact
copies (the same body and headers again: a channel's retry). Each
customer's events are sent in order by one client, which waits for each
answer, so the order they must be stored in is well defined. A copy goes
from another client: half of them at the moment its original leaves (a
race that either copy may win), half some requests after its original was
answered. The plan is seeded; only the threads' timing varies.

What must hold, whatever the timing: every answer is 200; every distinct
event is stored once; each customer's messages are in the order sent, in
the consultations that R3 and R9.1 give; at most one open consultation per
customer; every answer names the stored message, its consultation and its
customer, and a copy answers `"duplicate": true` with the same ids.
Throughput and answer times are printed for the record (`-s`), never asserted.
"""

from __future__ import annotations

import queue
import random
import statistics
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

import pytest

from consultations.models import ChannelEvent, CloseReason, Consultation, Message, Status

from .live import ChannelConnection, Posted, needs_postgresql, redis_url, signed_request, text_event

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, needs_postgresql]

SEED = 19
CLIENTS = 16
CUSTOMERS = 500
EVENTS_PER_CUSTOMER = 9  # 4,500 distinct events
ENDS = 135  # `!종료`: 3 % of them
DUPLICATES = 500  # the first half race their original, the rest come later
LATER_STEPS = 40  # a later copy waits up to this many of its client's own requests
HANDOFF_SECONDS = 10  # how long a racing original waits for its copy's client to take it
RUN_SECONDS = 240  # a hung run fails instead of hanging
END = "!종료"


@dataclass
class Planned:
    """One distinct event, and the copy of it that another client sends, if any."""

    event_id: str
    user_key: str
    text: str
    client: int
    copy_client: int | None = None
    racing: bool = False
    later_steps: int = 0
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Copy:
    planned: Planned
    taken: threading.Event = field(default_factory=threading.Event)


@dataclass
class Answer:
    event_id: str
    copy: bool
    posted: Posted | None = None
    error: str = ""


def make_plan() -> tuple[dict[str, list[Planned]], list[list[Planned]]]:
    """Each customer's events in order, and each client's own events in the order it sends them."""
    rng = random.Random(SEED)
    user_keys = [f"load-{n:03d}" for n in range(CUSTOMERS)]
    # `!종료` never first and never twice in a row: each lands in an open consultation and closes it.
    ends: set[tuple[int, int]] = set()
    while len(ends) < ENDS:
        spot = (rng.randrange(CUSTOMERS), rng.randrange(1, EVENTS_PER_CUSTOMER))
        if not {(spot[0], spot[1] - 1), (spot[0], spot[1] + 1)} & ends:
            ends.add(spot)
    by_customer = {
        key: [
            Planned(
                event_id=f"load-{SEED}-{n}-{i}",
                user_key=key,
                text=END if (n, i) in ends else f"{key}의 {i + 1}번째 문의입니다",
                client=n % CLIENTS,
            )
            for i in range(EVENTS_PER_CUSTOMER)
        ]
        for n, key in enumerate(user_keys)
    }
    everything = [planned for events in by_customer.values() for planned in events]
    for number, planned in enumerate(rng.sample(everything, DUPLICATES)):
        planned.copy_client = rng.choice([c for c in range(CLIENTS) if c != planned.client])
        planned.racing = number < DUPLICATES // 2
        planned.later_steps = rng.randrange(LATER_STEPS)
    per_client = []
    for client in range(CLIENTS):
        keys = [key for n, key in enumerate(user_keys) if n % CLIENTS == client]
        order = [key for key in keys for _ in range(EVENTS_PER_CUSTOMER)]
        rng.shuffle(order)  # customers interleaved, each one's events still in order
        next_of = {key: iter(by_customer[key]) for key in keys}
        per_client.append([next(next_of[key]) for key in order])
    return by_customer, per_client


class Run:
    """The clients of one run and what they shared: the copies handed between them, the answers."""

    def __init__(self, server, center, per_client: list[list[Planned]]) -> None:
        self.server = server
        self.center = center
        self.inboxes: list[queue.Queue[Copy]] = [queue.Queue() for _ in per_client]
        self.owners_left = len(per_client)
        self.lock = threading.Lock()
        self.answers: list[Answer] = []
        self.crashes: list[str] = []
        self.threads = [
            threading.Thread(target=self._client, args=(n, plan), name=f"load-client-{n}")
            for n, plan in enumerate(per_client)
        ]

    def go(self) -> float:
        started = time.monotonic()
        for thread in self.threads:
            thread.start()
        for thread in self.threads:
            thread.join(timeout=max(RUN_SECONDS - (time.monotonic() - started), 1))
        assert not any(thread.is_alive() for thread in self.threads), f"the clients hung past {RUN_SECONDS} s"
        return time.monotonic() - started

    def _client(self, n: int, plan: list[Planned]) -> None:
        connection = ChannelConnection(self.server)
        held: list[tuple[int, Copy]] = []  # later copies, each with the step it is due at
        answers: list[Answer] = []

        def post(planned: Planned, *, copy: bool) -> None:
            answer = Answer(planned.event_id, copy)
            try:
                answer.posted = connection.post(self.center.slug, planned.body, planned.headers)
            except Exception as error:  # recorded: the test fails on it
                answer.error = repr(error)
            answers.append(answer)

        def serve_inbox(step: int, *, all_due: bool = False) -> None:
            while True:
                try:
                    copy = self.inboxes[n].get_nowait()
                except queue.Empty:
                    break
                if copy.planned.racing:
                    copy.taken.set()  # its original leaves now, from the other client
                    post(copy.planned, copy=True)
                else:
                    held.append((step + copy.planned.later_steps, copy))
            for entry in [entry for entry in held if all_due or entry[0] <= step]:
                held.remove(entry)
                post(entry[1].planned, copy=True)

        try:
            try:
                for step, planned in enumerate(plan):
                    serve_inbox(step)
                    event = text_event(planned.event_id, planned.text, user_key=planned.user_key)
                    planned.body, planned.headers = signed_request(self.center, event)
                    if planned.racing:
                        copy = Copy(planned)
                        self.inboxes[planned.copy_client].put(copy)
                        deadline = time.monotonic() + HANDOFF_SECONDS
                        while not copy.taken.wait(0.002) and time.monotonic() < deadline:
                            serve_inbox(step)  # its client may be waiting on one of ours
                    post(planned, copy=False)
                    if planned.copy_client is not None and not planned.racing:
                        self.inboxes[planned.copy_client].put(Copy(planned))
            finally:
                with self.lock:
                    self.owners_left -= 1
            while True:  # the copies the others still hand over
                with self.lock:
                    others_done = self.owners_left == 0
                serve_inbox(len(plan), all_due=True)
                if others_done and self.inboxes[n].empty() and not held:
                    break
                time.sleep(0.01)
        except Exception as error:  # recorded: the test fails on it
            self.crashes.append(f"client {n}: {error!r}")
        finally:
            connection.close()
            with self.lock:
                self.answers += answers


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


class Stored(NamedTuple):
    """The stored message of one event, with what its answer must name."""

    message_id: int
    created_at: object
    consultation_pk: int
    consultation_id: str
    customer_id: str
    user_key: str

    def answer(self) -> dict:
        return {"message_id": self.message_id, "consultation_id": self.consultation_id, "customer_id": self.customer_id}


def stored_messages(center) -> dict[str, Stored]:
    """Each event id's message, in the chat's order (id, console/views/chat.py); each id may appear only once."""
    rows = (
        Message.objects.filter(consultation__center=center, sender=Message.Sender.CUSTOMER)
        .order_by("id")
        .values_list(
            "channel_event_id",
            "id",
            "created_at",
            "consultation_id",
            "consultation__public_id",
            "consultation__customer__customer_id",
            "consultation__customer__user_key",
        )
    )
    stored: dict[str, Stored] = {}
    for event_id, *row in rows:
        assert event_id not in stored, f"event {event_id} stored twice"
        stored[event_id] = Stored(*row)
    return stored


def segments(events: list[Planned]) -> list[list[str]]:
    """A customer's event ids as R3 and R9.1 split them into consultations: each `!종료` ends one."""
    split, current = [], []
    for planned in events:
        current.append(planned.event_id)
        if planned.text == END:
            split.append(current)
            current = []
    return [*split, current] if current else split


def test_5000_events_from_16_clients_are_stored_once_in_order_and_answered_truly(live_servers, center):
    by_customer, per_client = make_plan()
    distinct = {planned.event_id: planned for events in by_customer.values() for planned in events}
    server = live_servers.start(
        "load", wsgi=True, workers=2, threads=4, redis=redis_url(), environment={"DB_POOL_MAX_SIZE": "8"}
    )
    try:
        run = Run(server, center, per_client)
        seconds = run.go()
    finally:
        server.stop()

    # Every request answered 200.
    assert not run.crashes, run.crashes
    answers = run.answers
    assert len(answers) == len(distinct) + DUPLICATES
    latencies = [a.posted.answered_at - a.posted.sent_at for a in answers if a.posted]
    races = [a.posted for a in answers if a.copy and distinct[a.event_id].racing and a.posted]
    print(
        f"\n{len(answers)} requests in {seconds:.1f} s, {len(answers) / seconds:.0f} per second;"
        f" answered in p50 {percentile(latencies, 0.5) * 1000:.0f} ms, p99 {percentile(latencies, 0.99) * 1000:.0f} ms;"
        f" {sum(p.body.get('duplicate') is False for p in races)} of {len(races)} racing copies won their race"
    )
    refused = [(a.event_id, a.error or (a.posted.status, a.posted.body)) for a in answers if a.error]
    refused += [(a.event_id, a.posted.status, a.posted.body) for a in answers if a.posted and a.posted.status != 200]
    assert not refused, f"{len(refused)} requests not answered 200, e.g. {refused[:5]}"
    assert "Traceback" not in server.log(), server.log()[-5000:]

    # Every distinct event stored exactly once: one ChannelEvent, one Message.
    recorded = Counter(ChannelEvent.objects.filter(center=center).values_list("event_id", flat=True))
    assert set(recorded) == set(distinct)
    assert set(recorded.values()) == {1}
    stored = stored_messages(center)
    assert set(stored) == set(distinct)

    # Each customer's messages in the order sent, and in the consultations R3 and R9.1 give them.
    stored_order = defaultdict(list)
    for event_id, row in stored.items():  # in id order
        stored_order[row.user_key].append(event_id)
    out_of_order = [
        key
        for key, events in by_customer.items()
        if stored_order[key] != [p.event_id for p in events]
        or [stored[p.event_id].created_at for p in events] != sorted(stored[p.event_id].created_at for p in events)
    ]
    assert not out_of_order, f"{len(out_of_order)} customers' messages stored out of order: {out_of_order[:5]}"
    misplaced = []
    for key, events in by_customer.items():
        holders = [{stored[event_id].consultation_pk for event_id in ids} for ids in segments(events)]
        if any(len(pks) != 1 for pks in holders) or len(set().union(*holders)) != len(holders):
            misplaced.append(key)  # a consultation's messages split over two, or two consultations' in one
    assert not misplaced, f"{len(misplaced)} customers' messages in the wrong consultations: {misplaced[:5]}"

    # At most one open consultation per customer, and only those whose last message was not `!종료`;
    # each `!종료` closed the consultation it landed in; no other consultation exists.
    consultations = {
        pk: (status, reason, key)
        for pk, status, reason, key in Consultation.objects.filter(center=center).values_list(
            "pk", "status", "close_reason", "customer__user_key"
        )
    }
    open_per_customer = Counter(key for status, _, key in consultations.values() if status != Status.CLOSED)
    assert set(open_per_customer.values()) == {1}
    assert set(open_per_customer) == {key for key, events in by_customer.items() if events[-1].text != END}
    ended = {stored[p.event_id].consultation_pk for p in distinct.values() if p.text == END}
    assert len(ended) == ENDS
    assert {consultations[pk][:2] for pk in ended} == {(Status.CLOSED, CloseReason.CUSTOMER_END)}
    assert len(consultations) == ENDS + len(open_per_customer)

    # Every answer names its event's message, consultation and customer; of two copies, one says it is a duplicate.
    wrong, flags = [], defaultdict(list)
    for answer in answers:
        body = dict(answer.posted.body)
        flags[answer.event_id].append(body.pop("duplicate", None))
        if body != stored[answer.event_id].answer():
            wrong.append((answer.event_id, answer.posted.body, stored[answer.event_id].answer()))
    assert not wrong, f"{len(wrong)} answers name other rows than those stored, e.g. {wrong[:3]}"
    copied = {p.event_id for p in distinct.values() if p.copy_client is not None}
    assert len(copied) == DUPLICATES
    assert {event_id: sorted(f, key=repr) for event_id, f in flags.items()} == {
        event_id: [False, True] if event_id in copied else [False] for event_id in distinct
    }
    # ... and the answer kept for later copies is the first one.
    kept = dict(ChannelEvent.objects.filter(center=center).values_list("event_id", "response"))
    assert kept == {event_id: {**row.answer(), "duplicate": False} for event_id, row in stored.items()}
