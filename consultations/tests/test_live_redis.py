"""The Redis doorbell as clients see it: prompt delivery, several server processes, Redis going away and back.

Each test runs in the PostgreSQL+Redis run of the suite (REDIS_URL set). Tests
that stop Redis, or count its connections, use a redis-server of their own on
another port: the machine's Redis is shared.
"""

import pytest

from consultations.live.doorbell import channel
from consultations.models import Event

from .live import (
    eventually,
    needs_postgresql,
    needs_redis,
    open_stream,
    post_in_thread,
    post_message,
    redis_url,
    session_cookie,
)

pytestmark = [pytest.mark.django_db(transaction=True), needs_redis]

DOORBELL_BOUND_SECONDS = 1.0  # the bound with Redis
POLL_BOUND_SECONDS = 3.0  # ... and without it


def cursors(center, after: str = "0-0") -> list[str]:
    """The center's Events after `after` as the stream sends them: (xid, id) order, written as cursors."""
    start = tuple(int(part) for part in after.split("-"))
    rows = Event.objects.filter(center=center).order_by("xid", "id").values_list("xid", "id")
    return [f"{xid}-{pk}" for xid, pk in rows if (xid, pk) > start]


def received(messages) -> list[str]:
    return [m.id for m in messages if m.id]


@pytest.fixture
def server(live_servers):
    return live_servers.get("redis-a", redis=redis_url(), heartbeat_seconds=0.5)


def test_a_customer_message_arrives_within_a_second(server, center, agent):
    with open_stream(server, session_cookie(agent.user)) as client:
        assert client.preamble == ["live doorbell"]
        posted = post_in_thread(server, center, "배송 문의드립니다")
        message = client.next_event("message.created", timeout=5)

    assert message.at - posted.sent_at < DOORBELL_BOUND_SECONDS
    assert message.json["message"] == posted.body["message_id"]


def test_a_reconnect_with_last_event_id_gets_every_event_in_between_once(server, center, agent):
    cookie = session_cookie(agent.user)
    start = (cursors(center) or ["0-0"])[-1]
    seen = []
    with open_stream(server, cookie) as first:
        post_message(server, center, "하나")
        while "message.created" not in [m.event for m in seen]:
            seen.append(first.next_stored(timeout=5))
    for text in ("둘", "셋"):
        post_message(server, center, text)
    expected = cursors(center, after=start)

    with open_stream(server, cookie, last_event_id=received(seen)[-1]) as second:
        while len(received(seen)) < len(expected):
            seen.append(second.next_stored(timeout=5))

    assert received(seen) == expected


@needs_postgresql
def test_an_event_committed_through_one_process_reaches_a_stream_on_another(live_servers, center, agent):
    one = live_servers.get("redis-a", redis=redis_url(), heartbeat_seconds=0.5)
    other = live_servers.get("redis-b", redis=redis_url(), heartbeat_seconds=0.5)
    assert one.process.pid != other.process.pid

    with open_stream(other, session_cookie(agent.user)) as client:
        assert client.preamble == ["live doorbell"]
        posted = post_in_thread(one, center, "다른 서버로 온 문의")
        message = client.next_event("message.created", timeout=5)

    assert message.json["message"] == posted.body["message_id"]
    assert message.at - posted.sent_at < DOORBELL_BOUND_SECONDS


def test_without_redis_the_stream_polls_and_with_redis_back_the_doorbell_resumes(
    live_servers, private_redis, center, agent
):
    server = live_servers.start("redis-outage", redis=private_redis.url, heartbeat_seconds=0.5)
    seen = []
    with open_stream(server, session_cookie(agent.user)) as client:
        assert client.preamble == ["live doorbell"]
        start = Event.objects.filter(center=center).order_by("id").values_list("id", flat=True).last() or 0

        posted = post_in_thread(server, center, "레디스 있음")
        seen.append(client.next_event("message.created", timeout=5))
        assert seen[-1].at - posted.sent_at < DOORBELL_BOUND_SECONDS

        private_redis.kill()
        client.next_comment("live polling", timeout=5)
        posted = post_in_thread(server, center, "레디스 없음")  # the commit stands without its ring
        seen.append(client.next_event("message.created", timeout=5))
        assert seen[-1].at - posted.sent_at < POLL_BOUND_SECONDS

        private_redis.start()  # same port: the server's settings are unchanged
        client.next_comment("live doorbell", timeout=10)
        posted = post_in_thread(server, center, "레디스 돌아옴")
        seen.append(client.next_event("message.created", timeout=5))
        assert seen[-1].at - posted.sent_at < DOORBELL_BOUND_SECONDS
        seen += client.pending()

    messages = Event.objects.filter(center=center, id__gt=start, kind="message.created")
    assert [m.json["id"] for m in seen if m.event == "message.created"] == [e.pk for e in messages.order_by("id")]
    assert server.log().count("publish to Redis failed") == 1  # a warning, once a minute at most
    assert "Traceback" not in server.log()


def test_the_streams_of_a_process_share_one_subscription_and_leave_none_behind(
    live_servers, private_redis, center, other_center, agent, outsider
):
    server = live_servers.start("redis-cleanup", redis=private_redis.url, heartbeat_seconds=0.5)
    cookie = session_cookie(agent.user)
    bell = channel(center.pk)
    assert private_redis.subscribers(bell) == 0

    clients = [open_stream(server, cookie) for _ in range(3)]
    assert private_redis.subscribers(bell) == 1  # one subscription per process, whatever its streams
    assert private_redis.subscribing_clients() == 1
    with open_stream(server, session_cookie(outsider.user)):  # another center: a second channel, same connection
        assert private_redis.subscribers(channel(other_center.pk)) == 1
        assert private_redis.subscribing_clients() == 1
    eventually(lambda: private_redis.subscribers(channel(other_center.pk)) == 0, message="its channel left")
    clients[0].close()
    assert private_redis.subscribers(bell) == 1  # the center's other streams still listen
    for client in clients:
        client.close()

    eventually(lambda: private_redis.subscribers(bell) == 0, timeout=10, message="PUBSUB NUMSUB back to 0")
    assert private_redis.subscribing_clients() == 0
    # and the server still rings and streams
    with open_stream(server, cookie) as client:
        posted = post_in_thread(server, center, "문의")
        assert client.next_event("message.created", timeout=5).json["message"] == posted.body["message_id"]
