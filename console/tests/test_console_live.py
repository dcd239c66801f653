"""What the console's live updates fetch: the chat's lines again, the waiting count, the page's cursor.

The stream itself: test_live_*.py here and consultations/tests/test_live_redis.py; the whole loop in a
browser: test_browser_live.py.
"""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from console import views
from consultations import lifecycle
from consultations.live import feed
from consultations.models import Event, Message, ReadMark, Status
from consultations.tests.helpers import consultation_in, customer_writes, fill, in_progress_with

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def alice(client, agent):
    client.force_login(agent.user)
    return client


def lines(client, consultation, **query) -> tuple[int, str]:
    url = reverse("chat-messages-since", args=[consultation.public_id])
    response = client.get(url, query, **HX, **EN)
    return response.status_code, response.content.decode()


def message_ids(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'id="message-(\d+)"', html)]


def test_the_lines_are_every_message_and_system_line_of_the_conversation(alice, center, agent, manager):
    consultation = in_progress_with(center, agent)
    new = customer_writes(center, "배송 조회 부탁드립니다").message
    lifecycle.do_set_hold(consultation, actor=manager, on_hold=True)

    status, html = lines(alice, consultation)

    assert status == 200
    assert message_ids(html) == list(consultation.messages.order_by("id").values_list("id", flat=True))
    assert message_ids(html)[-1] == new.pk and "배송 조회 부탁드립니다" in html
    hold_event = Event.objects.get(consultation=consultation, kind=Event.Kind.HOLD_SET)
    assert f'id="event-{hold_event.pk}"' in html and "put the consultation on hold" in html
    assert "The beginning of the conversation" in html  # the whole conversation: nothing older to load
    assert "<html" not in html


def test_from_a_message_the_lines_start_there_with_the_older_ones_left_to_load(alice, center, agent):
    consultation = in_progress_with(center, agent)
    ids = [customer_writes(center, f"메시지 {n}").message.pk for n in range(3)]

    status, html = lines(alice, consultation, **{"from": ids[1]})

    assert status == 200
    assert message_ids(html) == ids[1:]
    # The list keeps the "earlier messages" line, carrying where it starts for the next refresh.
    assert f'<input type="hidden" name="from" value="{ids[1]}">' in html
    assert f"?before={ids[1]}" in html


def test_a_delivery_change_brings_the_message_again_with_its_new_state(alice, center, agent):
    consultation = in_progress_with(center, agent)
    sent = lifecycle.do_send_message(consultation, actor=agent, text="확인 중입니다.")
    Message.objects.filter(pk=sent.pk).update(delivery_state="sent")

    status, html = lines(alice, consultation, **{"from": sent.pk})

    assert status == 200
    assert message_ids(html) == [sent.pk]
    assert "msg-delivery-sent" in html


def test_the_lines_write_nothing_and_bring_the_read_mark_to_post(alice, center, agent):
    consultation = in_progress_with(center, agent)
    new = customer_writes(center, "또 문의드려요").message

    with CaptureQueriesContext(connection) as queries:
        status, html = lines(alice, consultation)

    assert status == 200
    assert not [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert not ReadMark.objects.filter(member=agent, consultation=consultation).exists()
    # The page posts it (views/chat.py `read`), out of band of the lines: the newest message shown.
    read_url = reverse("chat-read", args=[consultation.public_id])
    assert f'id="live-read" hx-swap-oob="true" hidden hx-post="{read_url}" hx-trigger="load"' in html
    assert f'"upto": "{new.pk}"' in html


def test_a_list_that_grew_too_long_keeps_its_newest_lines(alice, center, agent, monkeypatch):
    monkeypatch.setattr(views.updates, "MAX_MESSAGES", 3)
    consultation = in_progress_with(center, agent)
    first = consultation.messages.order_by("id").first()
    ids = [customer_writes(center, f"메시지 {n}").message.pk for n in range(4)]

    status, html = lines(alice, consultation, **{"from": first.pk})

    assert status == 200
    assert message_ids(html) == ids[-3:]
    assert f'<input type="hidden" name="from" value="{ids[-3]}">' in html  # older ones load on scroll again


@pytest.mark.parametrize("start", ["-1", "abc", "1.5", "9" * 30])
def test_a_malformed_start_is_a_404(alice, center, agent, start):
    consultation = in_progress_with(center, agent)

    assert lines(alice, consultation, **{"from": start})[0] == 404


def test_a_message_of_another_consultation_is_a_404(alice, center, agent):
    consultation = in_progress_with(center, agent)
    other = customer_writes(center, "다른 고객", user_key="kakao-user-2").message

    assert lines(alice, consultation, **{"from": other.pk})[0] == 404


def test_the_cost_of_the_lines_does_not_grow_with_them(alice, center, agent, manager, django_assert_max_num_queries):
    consultation = in_progress_with(center, agent)
    for n in range(40):
        customer_writes(center, f"메시지 {n}")
        lifecycle.do_set_important(consultation, actor=manager, important=n % 2 == 0)

    first = consultation.messages.order_by("id").first()

    # session, user, membership, consultation, the first message, messages, events, member names
    with django_assert_max_num_queries(8):
        status, html = lines(alice, consultation, **{"from": first.pk})

    assert status == 200
    assert len(message_ids(html)) == 42
    assert len(re.findall(r'id="event-(\d+)"', html)) == 40 + 3  # the flags, and opened, assigned, started


def test_the_waiting_count_is_mine_alone(alice, make_consultation, agent, agent2):
    fill(make_consultation, agent, Status.WAITING, 2)
    fill(make_consultation, agent, Status.IN_PROGRESS, 1)
    fill(make_consultation, agent2, Status.WAITING, 3)
    consultation_in(make_consultation, Status.UNASSIGNED)

    response = alice.get(reverse("live-waiting-count"))

    assert response.status_code == 200
    assert response.json() == {"waiting": 2}


def test_the_waiting_count_needs_a_login(client):
    response = client.get(reverse("live-waiting-count"))

    assert response.status_code in (302, 401, 403)


def test_the_page_starts_its_stream_where_the_stream_would_start_now(alice, center, agent):
    consultation = in_progress_with(center, agent)
    cursor = feed.start_cursor(center.pk)

    html = alice.get(reverse("console-consultation", args=[consultation.public_id])).content.decode()

    assert f'sse-connect="/events/stream?last={cursor}"' in html
    assert re.fullmatch(r"\d+-\d+", str(cursor))
    assert 'id="live-events"' in html and "sse:conversation.changed" in html
    # The panes refresh themselves on the stream's events of their own consultation and customer, which live.js
    # passes on as live:<event>:<id> (an htmx event filter would need eval, which the CSP refuses).
    assert f"live:conversation.changed:{consultation.public_id} from:#live" in html
    assert f"live:consultation.changed:{consultation.public_id} from:#live" in html
    assert f"live:customer.changed:{consultation.customer_id} from:#live" in html
    assert "sse:counts.changed from:#live" in html


def test_under_wsgi_the_stream_tells_the_browser_to_stop_trying(alice):
    # Django's test client is a WSGI request: an endless response would hold a server thread for ever.
    response = alice.get(reverse("event-stream"))

    assert response.status_code == 204
