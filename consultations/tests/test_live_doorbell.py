"""The doorbell's ringing side, and a stream's re-check of its member, in-process on the test database."""

import logging

import pytest
from django.contrib.sessions.models import Session
from django.db import transaction

from consultations import lifecycle
from consultations.live import doorbell, feed
from counsel_center.membership import SESSION_KEY
from counsel_center.models import Member
from counsel_center.tests.factories import MemberFactory

from .live import free_port, needs_redis

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def nothing_pending():
    """Each test starts with no ring noted on this thread (a test's rolled-back transaction leaves its own)."""
    doorbell._pending.center_ids.clear()
    yield
    doorbell._pending.center_ids.clear()


@pytest.fixture
def rung(monkeypatch) -> list[int]:
    """The centers `doorbell.ring` is called for, in order, instead of publishing."""
    rings: list[int] = []
    monkeypatch.setattr(doorbell, "ring", rings.append)
    return rings


@pytest.fixture
def unreachable_redis(settings, monkeypatch):
    """REDIS_URL pointing at a port where nothing listens."""
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    monkeypatch.setattr("consultations.live._last_warning", {})  # this test's warning is not swallowed
    return settings.REDIS_URL


def test_a_transaction_with_several_events_rings_once(
    center, unreachable_redis, rung, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        received = lifecycle.do_receive_customer_message(center, user_key="kakao-user-1", text="안녕하세요")

    assert received.opened  # consultation.created and message.created: two Events ...
    assert callbacks.count(doorbell._ring_pending) == 2  # ... each with its on_commit callback ...
    assert rung == [center.pk]  # ... and one ring, by the first


def test_without_redis_nothing_waits_for_the_commit(center, settings, django_capture_on_commit_callbacks):
    settings.REDIS_URL = ""

    with django_capture_on_commit_callbacks() as callbacks:
        lifecycle.do_receive_customer_message(center, user_key="kakao-user-1", text="안녕하세요")

    assert doorbell._ring_pending not in callbacks


def test_each_commit_rings_the_centers_of_its_events_once(unreachable_redis, rung, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        doorbell.ring_on_commit(2)
        doorbell.ring_on_commit(3)
        doorbell.ring_on_commit(2)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        doorbell.ring_on_commit(3)

    assert rung == [2, 3, 3]


def test_a_ring_noted_in_a_rolled_back_savepoint_costs_a_ring_too_many_at_most(
    unreachable_redis, rung, django_capture_on_commit_callbacks
):
    """Django drops the savepoint's callback; the center stays noted and rings with the commit (one extra read)."""
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        try:
            with transaction.atomic():
                doorbell.ring_on_commit(1)
                raise RuntimeError("refused")
        except RuntimeError:
            pass
        doorbell.ring_on_commit(2)

    assert rung == [1, 2]


def test_a_down_redis_never_fails_the_transaction(
    center, unreachable_redis, caplog, django_capture_on_commit_callbacks
):
    with caplog.at_level(logging.WARNING, logger="consultations.live.doorbell"):
        with django_capture_on_commit_callbacks(execute=True):
            received = lifecycle.do_receive_customer_message(center, user_key="kakao-user-1", text="안녕하세요")
        with django_capture_on_commit_callbacks(execute=True):
            lifecycle.do_receive_customer_message(center, user_key="kakao-user-1", text="또 왔어요")

    assert received.message.pk
    warnings = [record for record in caplog.records if "publish to Redis failed" in record.getMessage()]
    assert len(warnings) == 1  # at most once a minute


@needs_redis
def test_the_commit_publishes_one_ring_on_the_centers_channel(
    center, settings, private_redis, django_capture_on_commit_callbacks
):
    settings.REDIS_URL = private_redis.url
    with private_redis.client() as client, client.pubsub(ignore_subscribe_messages=True) as pubsub:
        pubsub.subscribe(doorbell.channel(center.pk))
        assert pubsub.get_message(timeout=1) is None  # the confirmation, ignored

        with django_capture_on_commit_callbacks(execute=True):
            lifecycle.do_receive_customer_message(center, user_key="kakao-user-1", text="안녕하세요")

        ring = pubsub.get_message(timeout=2)
        assert ring is not None and ring["channel"] == doorbell.channel(center.pk).encode()
        assert pubsub.get_message(timeout=0.5) is None, "two Events, one ring"


# --- a stream's re-check of its member ------------------------------------------------------------


@pytest.fixture
def signed_in(client, agent):
    client.force_login(agent.user)
    session = client.session
    reader = feed.Reader(
        user_id=agent.user.pk, member_id=agent.pk, center_id=agent.center_id, session_key=session.session_key
    )
    return client, reader


def test_a_signed_in_member_still_reads(signed_in):
    _, reader = signed_in
    assert feed.still_reader(reader)


def test_a_logout_ends_the_right_to_read(signed_in):
    client, reader = signed_in
    client.logout()
    assert not feed.still_reader(reader)


def test_a_deactivated_membership_ends_the_right_to_read(signed_in, agent):
    _, reader = signed_in
    Member.objects.filter(pk=agent.pk).update(is_active=False)
    assert not feed.still_reader(reader)


def test_switching_to_another_center_ends_the_stream_of_the_first(signed_in, agent, other_center):
    client, reader = signed_in
    MemberFactory(center=other_center, user=agent.user, role=Member.Role.AGENT)
    session = client.session
    session[SESSION_KEY] = other_center.pk
    session.save()
    assert not feed.still_reader(reader)


def test_a_password_change_ends_the_right_to_read_without_touching_the_session(signed_in, agent):
    _, reader = signed_in
    agent.user.set_password("a-new-password")
    agent.user.save()

    assert not feed.still_reader(reader)
    assert Session.objects.filter(session_key=reader.session_key).exists()  # the check only reads


def test_a_deactivated_user_ends_the_right_to_read(signed_in, agent):
    _, reader = signed_in
    type(agent.user).objects.filter(pk=agent.user.pk).update(is_active=False)
    assert not feed.still_reader(reader)
