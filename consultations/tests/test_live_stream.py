"""GET /events/stream as a browser sees it, on a real ASGI server without Redis (the poll fallback).

The Redis doorbell, several processes and Redis outages: test_live_redis.py.
"""

import threading
import time
from datetime import datetime

import pytest
from django.conf import settings
from django.db import connection, transaction

from consultations import lifecycle
from consultations.live import feed
from consultations.models import Consultation, Event, Message
from counsel_center.models import Member
from counsel_center.tests.factories import UserFactory

from .live import (
    eventually,
    get,
    needs_postgresql,
    on_postgresql,
    open_stream,
    post_in_thread,
    post_message,
    session_cookie,
    stream,
)

pytestmark = pytest.mark.django_db(transaction=True)

POLL_BOUND_SECONDS = 3.0  # the bound for the poll fallback
CONTRACT_KEYS = {"id", "kind", "consultation", "customer", "actor", "assignee", "status", "message", "sender", "at"}


@pytest.fixture
def server(live_servers):
    """No REDIS_URL: streams poll the table every second (the default)."""
    return live_servers.get("poll", heartbeat_seconds=0.5)


@pytest.fixture
def quiet_server(live_servers):
    """Reads rarely and never pings: between reads an idle stream does nothing at all."""
    return live_servers.get("quiet", poll_seconds=30, heartbeat_seconds=30)


def event_ids(center, after: int = 0) -> list[int]:
    return list(Event.objects.filter(center=center, id__gt=after).order_by("id").values_list("id", flat=True))


def last_event_id(center) -> int:
    return (event_ids(center) or [0])[-1]


# --- who may read ----------------------------------------------------------------------------------


def test_without_a_login_there_is_no_stream(server, center):
    with stream(server, None) as client:
        assert client.status == 401
        assert not client.headers["Content-Type"].startswith("text/event-stream")
        assert b"Sign in" in client.body
    with stream(server, None, language="ko") as client:  # Korean first
        assert client.status == 401
        assert "로그인하세요" in client.body.decode()


def test_a_user_of_no_center_is_refused(server, center):
    with stream(server, session_cookie(UserFactory(username="nobody"))) as client:
        assert client.status == 403


def test_an_inactive_member_is_refused(server, agent):
    Member.objects.filter(pk=agent.pk).update(is_active=False)

    with stream(server, session_cookie(agent.user)) as client:
        assert client.status == 403


def test_a_stream_carries_only_its_own_centers_events(server, center, other_center, agent, outsider):
    """R1: a member of center B never receives center A's events."""
    with (
        open_stream(server, session_cookie(agent.user)) as alpha,
        open_stream(server, session_cookie(outsider.user)) as beta,
    ):
        post_message(server, center, "알파 센터에 문의합니다")
        post_message(server, other_center, "베타 센터에 문의합니다")

        # Alpha's events were committed first: had they leaked, they would come first.
        beta_ids = {beta.next_event(timeout=10).json["id"], beta.next_event(timeout=10).json["id"]}
        alpha_ids = {alpha.next_event(timeout=10).json["id"], alpha.next_event(timeout=10).json["id"]}

    assert alpha_ids == set(event_ids(center))
    assert beta_ids == set(event_ids(other_center))
    assert not alpha_ids & beta_ids


# --- the contract ----------------------------------------------------------------------------------


def test_it_answers_as_an_event_stream_and_tells_the_browser_how_long_to_wait(server, agent):
    with stream(server, session_cookie(agent.user)) as client:
        assert client.status == 200
        assert client.headers["Content-Type"] == "text/event-stream"
        assert client.headers["Cache-Control"] == "no-cache"
        assert client.headers["X-Accel-Buffering"] == "no"
        assert client.next().retry == "2000"
        assert client.next().comments == ["live polling"]


def test_an_idle_stream_sends_heartbeat_comments(server, agent):
    with stream(server, session_cookie(agent.user)) as client:
        ping, skipped = client.next_matching(lambda m: "ping" in m.comments, timeout=5)

    assert ping.event is None and ping.id is None
    assert all(m.event is None for m in skipped)


def test_a_customer_message_arrives_by_polling_within_three_seconds(server, center, agent):
    with open_stream(server, session_cookie(agent.user)) as client:
        assert client.preamble == ["live polling"]
        posted = post_in_thread(server, center, "배송 문의드립니다")
        created = client.next_event("consultation.created", timeout=5)
        message = client.next_event("message.created", timeout=5)

    assert message.at - posted.sent_at < POLL_BOUND_SECONDS
    assert created.json["consultation"] == message.json["consultation"] == posted.body["consultation_id"]


def test_each_message_carries_the_ids_the_page_needs(server, center, agent, customer):
    with open_stream(server, session_cookie(agent.user)) as client:
        posted = post_message(server, center, "환불 문의")
        created = client.next_event("consultation.created")
        message = client.next_event("message.created")
        counts = client.next_event()
        lifecycle.do_assign_to_me(lifecycle_consultation(posted), actor=agent)
        assigned = client.next_event("consultation.assigned")

    stored = Message.objects.get(pk=posted.body["message_id"])
    assert set(message.json) == CONTRACT_KEYS
    assert message.id == str(message.json["id"])
    assert message.json == {
        "id": message.json["id"],
        "kind": "message.created",
        "consultation": posted.body["consultation_id"],
        "customer": stored.consultation.customer_id,
        "actor": None,
        "assignee": None,
        "status": "unassigned",
        "message": stored.pk,
        "sender": "customer",
        "at": message.json["at"],
    }
    assert datetime.fromisoformat(message.json["at"]).tzinfo is not None
    assert created.json["message"] is None
    # counts.changed after a batch with consultation events: no id, so the cursor stays.
    assert counts.event == "counts.changed"
    assert counts.id is None and "id:" not in counts.raw
    assert counts.json == {"id": message.json["id"]}
    # the consultation's current state: the assignee and status after the change
    assert assigned.json["actor"] == agent.pk
    assert assigned.json["assignee"] == agent.pk
    assert assigned.json["status"] == "waiting"


def lifecycle_consultation(posted):
    return Consultation.objects.get(public_id=posted.body["consultation_id"])


# --- the cursor ------------------------------------------------------------------------------------


def test_without_a_cursor_the_stream_starts_now(server, center, agent):
    post_message(server, center, "먼저 온 문의")
    before = last_event_id(center)

    with open_stream(server, session_cookie(agent.user)) as client:
        post_message(server, center, "나중 문의")
        first = client.next_event()

    assert first.json["id"] > before
    assert first.event == "message.created"  # the open consultation's next message; nothing older


def test_last_query_parameter_starts_after_that_id(server, center, agent):
    post_message(server, center, "첫 문의")
    ids = event_ids(center)

    with stream(server, session_cookie(agent.user), last=ids[0]) as client:
        received = [client.next_event().json["id"] for _ in ids[1:]]

    assert received == ids[1:]


def test_last_event_id_header_wins_over_the_query_parameter(server, center, agent):
    post_message(server, center, "첫 문의")
    post_message(server, center, "둘째 문의")
    ids = event_ids(center)
    assert len(ids) == 3

    with stream(server, session_cookie(agent.user), last=0, last_event_id=ids[1]) as client:
        first = client.next_event()

    assert first.json["id"] == ids[2]


@pytest.mark.parametrize(
    ("last", "last_event_id"),
    [("abc", None), ("-1", None), ("1.5", None), (str(2**63), None), (None, "12x"), ("1", "x")],
)
def test_a_malformed_cursor_is_a_400(server, agent, last, last_event_id):
    with stream(server, session_cookie(agent.user), last=last, last_event_id=last_event_id) as client:
        assert client.status == 400
        assert b"event id" in client.body


def test_an_empty_cursor_means_no_cursor(server, agent):
    with stream(server, session_cookie(agent.user), last="") as client:
        assert client.status == 200


def test_a_reconnect_with_last_event_id_gets_every_event_in_between_once(server, center, agent):
    cookie = session_cookie(agent.user)
    start = last_event_id(center)
    first = open_stream(server, cookie, last=start)
    post_message(server, center, "하나")
    post_message(server, center, "둘")
    seen = []
    while [m.event for m in seen].count("message.created") < 2:
        seen.append(first.next_event(timeout=10))
    first.close()  # dropped, as a network would drop it

    for text in ("셋", "넷", "다섯"):
        post_message(server, center, text)
    expected = event_ids(center, after=start)
    resume_from = max(int(m.id) for m in seen if m.id)
    # A browser reconnects to the same URL (?last= from the page) and adds Last-Event-ID.
    with stream(server, cookie, last=start, last_event_id=resume_from) as second:
        while not seen or max(int(m.id) for m in seen if m.id) < expected[-1]:
            seen.append(second.next_event(timeout=10))

    received = [int(m.id) for m in seen if m.id]
    assert received == expected, "every event exactly once, in order"


# --- what an idle stream holds ---------------------------------------------------------------------


def test_idle_streams_hold_no_database_connection(quiet_server, center, agent, manager):
    streams = [open_stream(quiet_server, session_cookie(member.user)) for member in (agent, manager, agent)]
    try:
        # Each stream's first read runs just after its preamble; then nothing until its next read, 30 s on.
        eventually(lambda: connections_of(quiet_server) == 0, timeout=5, message="first reads done")
        for _ in range(10):
            time.sleep(0.1)
            assert connections_of(quiet_server) == 0
    finally:
        for client in streams:
            client.close()


def connections_of(server) -> int:
    """The server's open database connections right now."""
    if on_postgresql():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [server.application_name]
            )
            return cursor.fetchone()[0]
    name = connection.settings_dict["NAME"]
    return sum(server.open_files(suffix) for suffix in (name, f"{name}-wal", f"{name}-shm"))


def test_a_closed_stream_gives_its_thread_back(server, center, agent):
    """The server notices the closed socket and ends the stream: nothing of it stays behind."""
    cookie = session_cookie(agent.user)

    def open_and_drop(count: int) -> None:
        clients = [open_stream(server, cookie) for _ in range(count)]
        for client in clients:
            client.close()

    open_and_drop(5)  # the first streams start the server's reading threads, which stay
    baseline = eventually(lambda: server.threads(), timeout=1)
    post_message(server, center, "문의")
    open_and_drop(40)

    # A closed stream leaves no thread behind: at most the request pool has grown (it keeps up to
    # WEB_THREADS threads), far fewer than one thread per stream would be.
    eventually(
        lambda: server.threads() <= baseline + settings.WEB_THREADS // 2,
        timeout=10,
        message="threads back near their number before",
    )
    status, _ = get(server, "/events/stream")
    assert status == 401  # and the server still serves


def test_open_streams_hold_no_thread_each(server, agent):
    """A stream is a coroutine: twenty open ones leave the server's thread count where it was."""
    cookie = session_cookie(agent.user)
    warm = [open_stream(server, cookie) for _ in range(2)]  # the request and reading pools exist now
    baseline = server.threads()
    clients = [open_stream(server, cookie) for _ in range(20)]  # each one started: its mode comment came
    try:
        assert server.threads() <= baseline + 2  # not one more per stream (the pools may grow by one or two)
    finally:
        for client in clients + warm:
            client.close()


# --- commit order --------------------------------------------------------------------------------


@needs_postgresql
def test_an_event_that_commits_after_a_higher_id_is_not_skipped(server, center, agent):
    """PostgreSQL draws ids at insert but commits in any order: the stream waits for the lower id.

    A transaction inserts Events and stays open; meanwhile a webhook call
    inserts Events with higher ids and commits. A stream that sent those and
    moved its cursor past them would never send the first transaction's.
    """
    inserted, release = threading.Event(), threading.Event()
    failures = []

    def slow_transaction() -> None:
        try:
            with transaction.atomic():
                lifecycle.do_receive_customer_message(center, user_key="slow-customer", text="늦게 커밋")
                inserted.set()
                release.wait(10)
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()

    start = last_event_id(center)
    with open_stream(server, session_cookie(agent.user)) as client:
        slow = threading.Thread(target=slow_transaction)
        slow.start()
        try:
            assert inserted.wait(10)
            post_message(server, center, "먼저 커밋", user_key="fast-customer")
            time.sleep(1.2)  # the stream reads at least once meanwhile, and sees only the higher ids
            early = [m for m in client.pending() if m.event]
        finally:
            release.set()
            slow.join(timeout=10)
        assert not failures
        expected = event_ids(center, after=start)
        assert len(expected) == 4
        received = [int(m.id) for m in early if m.id]
        while len(received) < len(expected):
            message = client.next_event(timeout=10)
            if message.id:
                received.append(int(message.id))

    assert received == expected


@needs_postgresql
def test_a_transaction_left_open_holds_the_streams_back_once_and_briefly(server, center, agent):
    """Waiting for lower ids has a bound (feed.SETTLE_MAX_SECONDS), paid once per stuck transaction."""
    inserted, release = threading.Event(), threading.Event()

    def stuck_transaction() -> None:
        try:
            with transaction.atomic():
                lifecycle.do_receive_customer_message(center, user_key="stuck-customer", text="멈춘 트랜잭션")
                inserted.set()
                release.wait(20)
        finally:
            connection.close()

    with open_stream(server, session_cookie(agent.user)) as client:
        stuck = threading.Thread(target=stuck_transaction)
        stuck.start()
        try:
            assert inserted.wait(10)
            first = post_message(server, center, "첫 문의", user_key="customer-a")
            arrived = client.next_event("message.created", timeout=10)
            assert arrived.at - first.sent_at < feed.SETTLE_MAX_SECONDS + POLL_BOUND_SECONDS
            second = post_message(server, center, "둘째 문의", user_key="customer-b")
            arrived = client.next_event("message.created", timeout=10)
            assert arrived.at - second.sent_at < POLL_BOUND_SECONDS  # no second wait for the same transaction
        finally:
            release.set()
            stuck.join(timeout=10)
