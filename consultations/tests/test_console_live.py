"""What the console's live updates fetch: the chat lines after an event, the waiting count, the page's cursor.

The stream itself: test_live_*.py; the whole loop in a browser: test_browser_live.py.
"""

import re

import pytest
from django.urls import reverse

from consultations import lifecycle, views
from consultations.models import Event, ReadMark, Status

from .helpers import consultation_in, customer_writes, fill, in_progress_with

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def alice(client, agent):
    client.force_login(agent.user)
    return client


def since(client, consultation, after) -> tuple[int, str, dict]:
    url = reverse("chat-messages-since", args=[consultation.public_id])
    response = client.get(url, {"after": after}, **HX, **EN)
    return response.status_code, response.content.decode(), response.headers


def latest_event_id(consultation) -> int:
    return Event.objects.filter(consultation=consultation).order_by("-id").values_list("id", flat=True).first()


def test_the_lines_after_the_cursor_are_the_new_messages_and_system_lines(alice, center, agent, manager):
    consultation = in_progress_with(center, agent)
    cursor = latest_event_id(consultation)
    new = customer_writes(center, "배송 조회 부탁드립니다").message
    lifecycle.do_set_hold(consultation, actor=manager, on_hold=True)

    status, html, headers = since(alice, consultation, cursor)

    assert status == 200
    assert re.findall(r'id="message-(\d+)"', html) == [str(new.pk)]
    assert "배송 조회 부탁드립니다" in html
    hold_event = Event.objects.get(consultation=consultation, kind=Event.Kind.HOLD_SET)
    assert f'id="event-{hold_event.pk}"' in html and "put the consultation on hold" in html
    assert "문의드립니다" not in html  # before the cursor
    assert "X-Counsel-More" not in headers


def test_a_delivery_change_brings_the_message_again_with_its_new_state(alice, center, agent):
    consultation = in_progress_with(center, agent)
    sent = lifecycle.do_send_message(consultation, actor=agent, text="확인 중입니다.")
    cursor = latest_event_id(consultation)
    Event.objects.create(
        center=center,
        consultation=consultation,
        kind=Event.Kind.DELIVERY,
        created_at=sent.created_at,
        data={"message_id": sent.pk, "state": "sent"},
    )

    status, html, _ = since(alice, consultation, cursor)

    assert status == 200
    assert re.findall(r'id="message-(\d+)"', html) == [str(sent.pk)]


def test_reading_the_new_lines_marks_them_read(alice, center, agent):
    consultation = in_progress_with(center, agent)
    cursor = latest_event_id(consultation)
    new = customer_writes(center, "또 문의드려요").message

    since(alice, consultation, cursor)

    assert ReadMark.objects.get(member=agent, consultation=consultation).last_read_message_id == new.pk


def test_too_many_new_events_ask_the_page_to_reload_the_pane(alice, center, agent, monkeypatch):
    monkeypatch.setattr(views.updates, "MAX_EVENTS", 3)
    consultation = in_progress_with(center, agent)
    cursor = latest_event_id(consultation)
    for n in range(4):
        customer_writes(center, f"메시지 {n}")

    status, html, headers = since(alice, consultation, cursor)

    assert status == 200
    assert headers["X-Counsel-More"] == "1"
    assert len(re.findall(r'id="message-(\d+)"', html)) == 3


@pytest.mark.parametrize("after", ["", "-1", "abc", "1.5", "9" * 30])
def test_a_malformed_cursor_is_a_404(alice, center, agent, after):
    consultation = in_progress_with(center, agent)

    assert since(alice, consultation, after)[0] == 404


def test_the_cost_of_new_lines_does_not_grow_with_them(alice, center, agent, manager, django_assert_max_num_queries):
    consultation = in_progress_with(center, agent)
    cursor = latest_event_id(consultation)
    for n in range(40):
        customer_writes(center, f"메시지 {n}")
        lifecycle.do_set_important(consultation, actor=manager, important=n % 2 == 0)

    # session, user, membership, consultation, events, messages, member names, read mark
    with django_assert_max_num_queries(9):
        status, html, _ = since(alice, consultation, cursor)

    assert status == 200
    assert len(re.findall(r'id="message-(\d+)"', html)) == 40
    assert len(re.findall(r'id="event-(\d+)"', html)) == 40


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


def test_the_page_starts_its_stream_after_the_last_event_it_shows(alice, center, agent):
    consultation = in_progress_with(center, agent)
    latest = Event.objects.filter(center=center).order_by("-id").first()

    html = alice.get(reverse("console-consultation", args=[consultation.public_id])).content.decode()

    assert f'sse-connect="/events/stream?last={latest.pk}"' in html
    assert 'id="live-events"' in html and "sse:message.created" in html
    assert 'data-since-url="/consultations/' in html


def test_under_wsgi_the_stream_tells_the_browser_to_stop_trying(alice):
    # Django's test client is a WSGI request: an endless response would hold a server thread for ever.
    response = alice.get(reverse("event-stream"))

    assert response.status_code == 204
