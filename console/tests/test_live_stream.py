"""GET /events/stream as a browser sees it, on a real ASGI server without Redis (the poll fallback).

The Redis doorbell, several processes and Redis outages: consultations/tests/test_live_redis.py.
"""

import threading
import time
from datetime import datetime

import pytest
from django.db import connection, transaction

from consultations import lifecycle
from consultations.models import Consultation, Event, Message
from consultations.tests.live import (
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
from counsel_center.models import Center, Member
from counsel_center.tests.factories import UserFactory

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


def cursors(center, after: str = "0-0") -> list[str]:
    """The center's Events after `after`, as the stream sends them: in (xid, id) order, written as their cursors."""
    start = tuple(int(part) for part in after.split("-"))
    rows = Event.objects.filter(center=center).order_by("xid", "id").values_list("xid", "id")
    return [f"{xid}-{pk}" for xid, pk in rows if (xid, pk) > start]


def last_cursor(center) -> str:
    return (cursors(center) or ["0-0"])[-1]


def stored(messages) -> list[str]:
    """The cursors of the Events among `messages` (the SSE messages with an `id:`)."""
    return [m.id for m in messages if m.id]


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
        beta_ids = {beta.next_stored(timeout=10).id, beta.next_stored(timeout=10).id}
        alpha_ids = {alpha.next_stored(timeout=10).id, alpha.next_stored(timeout=10).id}

    assert alpha_ids == set(cursors(center))
    assert beta_ids == set(cursors(other_center))
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
        summaries = [client.next_event() for _ in range(3)]
        lifecycle.do_assign_to_me(lifecycle_consultation(posted), actor=agent)
        assigned = client.next_event("consultation.assigned")
        assigned_summaries = [client.next_event() for _ in range(3)]

    stored = Message.objects.get(pk=posted.body["message_id"])
    assert set(message.json) == CONTRACT_KEYS
    event = Event.objects.get(pk=message.json["id"])
    assert message.id == f"{event.xid}-{event.pk}"  # the cursor a reconnect resumes from
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
    # After the batch, what changed for the page: no id, so the cursor stays.
    public_id = posted.body["consultation_id"]
    assert [(m.event, m.data) for m in summaries] == [
        ("counts.changed", f'{{"id":{message.json["id"]}}}'),
        ("consultation.changed", public_id),
        ("conversation.changed", public_id),
    ]
    assert all(m.id is None and "id:" not in m.raw for m in summaries)
    assert [(m.event, m.data) for m in assigned_summaries] == [
        ("counts.changed", f'{{"id":{assigned.json["id"]}}}'),
        ("consultation.changed", public_id),
        ("conversation.changed", public_id),
    ]
    # the consultation's current state: the assignee and status after the change
    assert assigned.json["actor"] == agent.pk
    assert assigned.json["assignee"] == agent.pk
    assert assigned.json["status"] == "waiting"


def lifecycle_consultation(posted):
    return Consultation.objects.get(public_id=posted.body["consultation_id"])


# --- the cursor ------------------------------------------------------------------------------------


def test_a_customer_change_says_customer_changed(server, center, agent, customer):
    with open_stream(server, session_cookie(agent.user)) as client:
        lifecycle.do_update_friend_status(center, user_key=customer.user_key, is_friend=not customer.is_friend)
        updated = client.next_event("customer.updated")
        changed = client.next_event()

    assert updated.json["customer"] == customer.pk
    assert (changed.event, changed.data, changed.id) == ("customer.changed", str(customer.pk), None)


def test_without_a_cursor_the_stream_starts_now(server, center, agent):
    post_message(server, center, "먼저 온 문의")
    before = cursors(center)

    with open_stream(server, session_cookie(agent.user)) as client:
        post_message(server, center, "나중 문의")
        first = client.next_stored()

    assert first.id not in before
    assert first.event == "message.created"  # the open consultation's next message; nothing older


def test_last_query_parameter_starts_after_that_cursor(server, center, agent):
    post_message(server, center, "첫 문의")
    sent = cursors(center)

    with stream(server, session_cookie(agent.user), last=sent[0]) as client:
        received = [client.next_stored().id for _ in sent[1:]]

    assert received == sent[1:]


def test_last_event_id_header_wins_over_the_query_parameter(server, center, agent):
    post_message(server, center, "첫 문의")
    post_message(server, center, "둘째 문의")
    sent = cursors(center)
    assert len(sent) == 3

    with stream(server, session_cookie(agent.user), last="0-0", last_event_id=sent[1]) as client:
        first = client.next_stored()

    assert first.id == sent[2]


@pytest.mark.parametrize(
    ("last", "last_event_id"),
    [
        ("abc", None),
        ("-1", None),
        ("1.5", None),
        ("12", None),  # an event id alone: the cursor is the pair
        ("1-", None),
        (f"{2**63}-1", None),
        (f"1-{2**63}", None),
        (None, "12x"),
        ("1-1", "x"),
    ],
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
    start = last_cursor(center)
    first = open_stream(server, cookie, last=start)
    post_message(server, center, "하나")
    post_message(server, center, "둘")
    seen = []
    while [m.event for m in seen].count("message.created") < 2:
        seen.append(first.next_stored(timeout=10))
    first.close()  # dropped, as a network would drop it

    for text in ("셋", "넷", "다섯"):
        post_message(server, center, text)
    expected = cursors(center, after=start)
    # A browser reconnects to the same URL (?last= from the page) and adds Last-Event-ID.
    with stream(server, cookie, last=start, last_event_id=stored(seen)[-1]) as second:
        while len(stored(seen)) < len(expected):
            seen.append(second.next_stored(timeout=10))

    assert stored(seen) == expected, "every event exactly once, in order"


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

    # A closed stream leaves no thread behind (each held one while it was open): at most asgiref's
    # shared pools have grown by a few, far fewer than one thread per stream would be.
    eventually(
        lambda: server.threads() <= baseline + 4,
        timeout=10,
        message="threads back near their number before",
    )
    status, _ = get(server, "/events/stream")
    assert status == 401  # and the server still serves


def test_each_open_stream_holds_one_idle_thread_and_no_more(server, agent):
    """Django's ASGI handler gives each request a thread of its own (asgiref's ThreadSensitiveContext), which an
    open stream keeps, idle, until it closes: twenty streams, about twenty threads, not more (docs/architecture.md,
    "Serving")."""
    cookie = session_cookie(agent.user)
    warm = [open_stream(server, cookie) for _ in range(2)]  # the reading pools exist now
    baseline = server.threads()
    clients = [open_stream(server, cookie) for _ in range(20)]  # each one started: its mode comment came
    try:
        assert baseline + 18 <= server.threads() <= baseline + 20 + 2
    finally:
        for client in clients + warm:
            client.close()
    eventually(lambda: server.threads() <= baseline, timeout=10, message="the streams' threads given back")


# --- commit order --------------------------------------------------------------------------------


def in_thread(body, *, ready: threading.Event, release: threading.Event):
    """Run `body(ready, release)` in a transaction of its own on another thread (another connection); join with it."""
    failures: list[BaseException] = []

    def run() -> None:
        try:
            with transaction.atomic():
                body(ready, release)
        except BaseException as error:
            failures.append(error)
            ready.set()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()

    def join() -> None:
        release.set()
        thread.join(timeout=20)
        assert not thread.is_alive(), "the other transaction did not end"
        assert not failures, failures

    return join


@needs_postgresql
def test_an_event_that_commits_after_a_higher_id_is_neither_skipped_nor_overtaken(server, center, agent):
    """Ids are drawn at insert, commits come in any order: B's higher ids wait until A, open before them, ends.

    Transaction A inserts Events and stays open; a webhook call (B) inserts
    Events with higher ids and commits. A stream that sent B's and moved its
    cursor past them would never send A's: it sends neither until A commits,
    then both, A's first, each once.
    """
    start = last_cursor(center)
    with open_stream(server, session_cookie(agent.user)) as client:

        def slow(ready, release) -> None:
            lifecycle.do_receive_customer_message(center, user_key="slow-customer", text="늦게 커밋")
            ready.set()
            release.wait(20)

        inserted, release = threading.Event(), threading.Event()
        join = in_thread(slow, ready=inserted, release=release)
        try:
            assert inserted.wait(10)
            post_message(server, center, "먼저 커밋", user_key="fast-customer")
            time.sleep(2.5)  # longer than any "give up waiting" rule would wait; the stream polls every second
            early = client.pending()
        finally:
            join()
        expected = cursors(center, after=start)
        received = stored(early)
        while len(received) < len(expected):
            received.append(client.next_stored(timeout=10).id)

    assert stored(early) == [], "nothing sent while an older transaction with Events was open"
    assert len(expected) == 4 and received == expected
    slow_ids = set(Event.objects.filter(center=center, customer__user_key="slow-customer").values_list("id", flat=True))
    fast_ids = set(Event.objects.filter(center=center, customer__user_key="fast-customer").values_list("id", flat=True))
    assert max(slow_ids) < min(fast_ids), "A's ids are the lower ones"
    assert [int(c.split("-")[1]) for c in received] == sorted(slow_ids) + sorted(fast_ids)


@needs_postgresql
def test_a_transaction_that_began_first_comes_first_whatever_its_ids(server, center, other_center, agent, manager):
    """B takes its transaction id first but inserts its Event last: the stream sends B's before A's lower ids.

    B locks a row of another center (so PostgreSQL gives it a transaction id) and waits; a
    webhook call (A) inserts Events and commits; then B inserts its Event
    (a higher id) and commits. A's Events wait for B, and come after it.
    """
    consultation = lifecycle.do_receive_customer_message(center, user_key="first-customer", text="문의").consultation
    start = last_cursor(center)
    with open_stream(server, session_cookie(agent.user)) as client:

        def first_in(ready, release) -> None:
            list(Center.objects.select_for_update().filter(pk=other_center.pk))  # takes a transaction id
            ready.set()
            release.wait(20)
            lifecycle.do_set_important(consultation, actor=manager, important=True)

        locked, release = threading.Event(), threading.Event()
        join = in_thread(first_in, ready=locked, release=release)
        try:
            assert locked.wait(10)
            post_message(server, center, "나중에 시작, 먼저 커밋", user_key="second-customer")
            time.sleep(1.5)
            early = client.pending()
        finally:
            join()
        expected = cursors(center, after=start)
        received = stored(early)
        while len(received) < len(expected):
            received.append(client.next_stored(timeout=10).id)

    assert stored(early) == []
    important = Event.objects.get(consultation=consultation, kind=Event.Kind.IMPORTANT_SET)
    later = Event.objects.filter(center=center, customer__user_key="second-customer").order_by("id")
    assert important.pk > max(e.pk for e in later), "B's Event has the highest id ..."
    assert received == expected == [f"{important.xid}-{important.pk}", *[f"{e.xid}-{e.pk}" for e in later]]
