"""Idempotency under races: two copies of one event arriving at the same moment (SPEC §7)."""

import json
import time

import pytest
from django.test import Client

from consultations.channel import signing
from consultations.models import ChannelEvent, Consultation, Message

from .channel_client import text_event
from .helpers import run_in_parallel

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]


@pytest.mark.parametrize("known_customer", [False, True], ids=["first contact", "known customer"])
def test_two_parallel_copies_of_one_event_store_it_once(request, center, known_customer):
    # First contact: both copies try to create the customer, one waits on the other's insert. A known
    # customer: the second copy waits for the first's lock on the customer row. Either way the loser's
    # ChannelEvent insert fails on the unique key, its transaction rolls back, and it answers as a duplicate.
    if known_customer:
        request.getfixturevalue("customer")  # kakao-user-1, the event's customer
    body = json.dumps(text_event("동시에 두 번 도착한 메시지"), ensure_ascii=False).encode()
    headers = signing.signed_headers(center.webhook_secret, body, timestamp=int(time.time()))

    def post():
        return Client().post("/channel/alpha/events", data=body, content_type="application/json", headers=headers)

    responses = run_in_parallel([post, post])

    assert [r.status_code for r in responses] == [200, 200]
    answers = [r.json() for r in responses]
    assert sorted(a["duplicate"] for a in answers) == [False, True]
    assert answers[0]["message_id"] == answers[1]["message_id"]
    assert (ChannelEvent.objects.count(), Message.objects.count(), Consultation.objects.count()) == (1, 1, 1)
