"""R9.2 the customer switches to the chatbot, R9.3 a member presses 종료."""

from datetime import timedelta

import pytest

from consultations import lifecycle
from consultations.models import CloseReason, Consultation, Event, Status
from counsel_center import clock

from .helpers import T0, consultation_in, customer_writes, events_of, refused

pytestmark = pytest.mark.django_db

OPEN_STATES = [Status.UNASSIGNED, Status.WAITING, Status.IN_PROGRESS]
AT = T0 + timedelta(minutes=12)


def _in(make_consultation, status, assignee, **kwargs):
    return consultation_in(
        make_consultation, status, assignee=None if status == Status.UNASSIGNED else assignee, **kwargs
    )


# --- R9.2 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", OPEN_STATES)
def test_a_chatbot_switch_closes_the_open_consultation(center, customer, agent, make_consultation, status):
    consultation = _in(make_consultation, status, agent, customer=customer)

    with clock.frozen_at(AT):
        received = lifecycle.do_switch_to_chatbot(center, user_key=customer.user_key)

    assert received.closed
    assert received.consultation == consultation
    assert received.message is None
    consultation.refresh_from_db()
    assert consultation.status == Status.CLOSED
    assert consultation.close_reason == CloseReason.CHATBOT_SWITCH
    assert consultation.closed_at == AT
    assert consultation.closed_by is None
    [event] = events_of(consultation)
    assert (event.kind, event.actor, event.created_at) == (Event.Kind.CLOSED, None, AT)
    assert (event.data["old_status"], event.data["new_status"]) == (status, Status.CLOSED)
    assert event.data["reason"] == CloseReason.CHATBOT_SWITCH


def test_a_chatbot_switch_with_nothing_open_does_nothing(center, customer, agent, make_consultation):
    closed = consultation_in(make_consultation, Status.CLOSED, assignee=agent, customer=customer)
    closed_at = closed.closed_at

    received = lifecycle.do_switch_to_chatbot(center, user_key=customer.user_key)

    assert received.consultation is None
    assert not received.closed
    closed.refresh_from_db()
    assert (closed.closed_at, closed.close_reason) == (closed_at, CloseReason.AGENT)
    assert not Event.objects.exists()


def test_a_chatbot_switch_keeps_the_profile_current(center, customer):
    customer_writes(center, user_key=customer.user_key)

    lifecycle.do_switch_to_chatbot(center, user_key=customer.user_key, profile_nickname="민지", is_friend=True)

    customer.refresh_from_db()
    assert (customer.profile_nickname, customer.is_friend) == ("민지", True)


def test_after_a_chatbot_switch_a_new_message_opens_a_new_consultation(center, customer):
    first = customer_writes(center, user_key=customer.user_key).consultation
    lifecycle.do_switch_to_chatbot(center, user_key=customer.user_key)

    second = customer_writes(center, "다시 상담원 연결", user_key=customer.user_key)

    assert second.opened
    assert second.consultation != first
    assert Consultation.objects.filter(customer=customer).count() == 2


# --- R9.3 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [Status.WAITING, Status.IN_PROGRESS])
def test_the_assignee_closes(agent, make_consultation, status):
    consultation = consultation_in(make_consultation, status, assignee=agent)

    with clock.frozen_at(AT):
        returned = lifecycle.do_close(consultation, actor=agent)

    assert returned == consultation
    consultation.refresh_from_db()
    assert consultation.status == Status.CLOSED
    assert consultation.closed_at == AT
    assert consultation.close_reason == CloseReason.AGENT
    assert consultation.closed_by == agent
    assert consultation.assignee == agent
    [event] = events_of(consultation)
    assert (event.kind, event.actor, event.created_at) == (Event.Kind.CLOSED, agent, AT)
    assert (event.data["old_status"], event.data["new_status"]) == (status, Status.CLOSED)
    assert event.data["reason"] == CloseReason.AGENT


@pytest.mark.parametrize("admin", ["manager", "master"])
@pytest.mark.parametrize("status", OPEN_STATES)
def test_an_admin_closes_any_consultation(request, agent, make_consultation, admin, status):
    actor = request.getfixturevalue(admin)
    consultation = _in(make_consultation, status, agent)

    with clock.frozen_at(AT):
        lifecycle.do_close(consultation, actor=actor)

    consultation.refresh_from_db()
    assert consultation.status == Status.CLOSED
    assert (consultation.closed_at, consultation.close_reason, consultation.closed_by) == (
        AT,
        CloseReason.AGENT,
        actor,
    )


@pytest.mark.parametrize("status", OPEN_STATES)
def test_another_agent_cannot_close(agent, agent2, make_consultation, status):
    consultation = _in(make_consultation, status, agent)

    with refused("not_assignee", "Only the assignee, a master or a manager can do this."):
        lifecycle.do_close(consultation, actor=agent2)

    consultation.refresh_from_db()
    assert consultation.status == status
    assert consultation.closed_at is None


@pytest.mark.parametrize("closer", ["agent", "manager"])
def test_closing_twice_is_refused(request, agent, make_consultation, closer):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)
    with clock.frozen_at(AT):
        lifecycle.do_close(consultation, actor=agent)

    with refused("closed", "This consultation is already closed."):
        lifecycle.do_close(consultation, actor=request.getfixturevalue(closer))

    consultation.refresh_from_db()
    assert (consultation.closed_at, consultation.closed_by) == (AT, agent)
    assert len(events_of(consultation, Event.Kind.CLOSED)) == 1


def test_closing_frees_a_concurrent_place(agent, make_consultation):
    [first, *_] = [consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent) for _ in range(3)]
    waiting = consultation_in(make_consultation, Status.WAITING, assignee=agent)

    lifecycle.do_close(first, actor=agent)
    lifecycle.do_send_message(waiting, actor=agent, text="이제 시작합니다")

    waiting.refresh_from_db()
    assert waiting.status == Status.IN_PROGRESS


def test_an_inactive_assignee_cannot_close(agent, make_consultation):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)
    agent.is_active = False
    agent.save()

    with refused("inactive_member", "Your membership in this center is not active."):
        lifecycle.do_close(consultation, actor=agent)
