"""A part that is down degrades a feature, never a page: the cache and the broker on a Redis the test stops.

Each test starts a redis-server of its own (the machine's is shared), points
the cache or Celery at it, and stops it mid-test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from consultations.channel import delivery
from consultations.models import DeliveryState, Message, Status
from consultations.tests.factories import ConsultationFactory, MessageFactory
from counsel_center import clock
from counsel_center.settings import redis_cache
from customers.tests.factories import CustomerFactory

from .live import PrivateRedis, eventually
from .worker import celery_app_on

HX = {"HTTP_HX_REQUEST": "true", "HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def alice(client, agent):
    client.force_login(agent.user)
    return client


# --- the cache ----------------------------------------------------------------------------------------


@pytest.fixture
def redis_cache_on(settings, private_redis):
    settings.CACHES = {"default": redis_cache(private_redis.url)}
    return private_redis


def rows_of(response) -> set[str]:
    return set(re.findall(r'data-consultation="(\w+)"', response.content.decode()))


@pytest.mark.django_db
def test_pages_answer_while_the_cache_is_down(alice, client, master, center, redis_cache_on, caplog):
    refund = ConsultationFactory(center=center, customer=CustomerFactory(center=center))
    MessageFactory(consultation=refund, text="환불 요청합니다")
    other = ConsultationFactory(center=center, customer=CustomerFactory(center=center))
    MessageFactory(consultation=other, text="배송 문의")
    search = {"scope": "all", "tab": "unassigned", "q": "환불"}
    assert rows_of(alice.get(reverse("console"), search)) == {refund.public_id}
    stats = Client()
    stats.force_login(master.user)
    assert stats.get(reverse("stats")).status_code == 200  # Redis up: its daily table is cached

    redis_cache_on.kill()
    response = alice.get(reverse("console"), search)

    assert response.status_code == 200
    assert rows_of(response) == {refund.public_id}
    assert rows_of(alice.get(reverse("console"), {**search, "q": "배송"})) == {other.public_id}
    assert stats.get(reverse("stats")).status_code == 200  # the table is rendered without the cache
    cache.set("still-there", 1)
    assert cache.get("still-there") is None  # the cache really is down: a logged miss, not an error
    assert "Exception ignored" in caplog.text  # django-redis says so in the log


# --- the broker -----------------------------------------------------------------------------------------


@dataclass
class Broker:
    redis: PrivateRedis
    app: Celery


@pytest.fixture
def broker(private_redis):
    """Celery publishing to the private Redis: an app of the test's own, current while it runs (worker.py)."""
    with celery_app_on(private_redis.url) as app:
        yield Broker(private_redis, app)


@pytest.fixture
def consultation(center, agent, receiver, make_consultation):
    center.outbound_url = receiver.url
    center.save(update_fields=["outbound_url"])
    return make_consultation(status=Status.IN_PROGRESS, assignee=agent)


@pytest.mark.django_db(transaction=True)  # the message is committed, as in production; the worker thread reads it
def test_a_message_sent_while_the_broker_is_down_is_kept_pending_and_goes_out_when_it_is_back(
    alice, consultation, broker, receiver, caplog
):
    broker.redis.kill()
    response = alice.post(reverse("chat-messages", args=[consultation.public_id]), {"text": "확인해 드릴게요"}, **HX)

    assert response.status_code == 200
    assert "확인해 드릴게요" in response.content.decode()
    message = Message.objects.get(consultation=consultation, text="확인해 드릴게요")
    assert message.delivery_state == DeliveryState.PENDING
    assert f"message {message.pk}: delivery not queued, the broker is unreachable" in caplog.text

    broker.redis.start()
    with clock.frozen_at(clock.now() + timedelta(minutes=2)):  # past the sweep's grace
        assert delivery.redeliver_stalled() == 1
    with start_worker(broker.app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        eventually(lambda: Message.objects.get(pk=message.pk).delivery_state == DeliveryState.SENT, timeout=20)

    assert [request.headers["Idempotency-Key"] for request in receiver.requests] == [str(message.pk)]
    assert receiver.requests[0].json["message"]["text"] == "확인해 드릴게요"


@pytest.mark.django_db(transaction=True)
def test_the_sweep_stops_quietly_while_the_broker_is_down(consultation, broker, agent):
    from consultations import lifecycle

    broker.redis.kill()
    lifecycle.do_send_message(consultation, actor=agent, text="첫 번째")
    lifecycle.do_send_message(consultation, actor=agent, text="두 번째")

    with clock.frozen_at(clock.now() + timedelta(minutes=2)):
        assert delivery.redeliver_stalled() == 0  # nothing queued, nothing raised: the next sweep tries again

    assert set(Message.objects.filter(consultation=consultation).values_list("delivery_state", flat=True)) == {
        DeliveryState.PENDING
    }
