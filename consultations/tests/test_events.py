"""R12: every transition is recorded as an Event (who, what, when, old and new state); a refusal records nothing."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import translation

from consultations import lifecycle
from consultations.lifecycle import Refused
from consultations.models import CloseReason, Consultation, Event, Message, Status
from counsel_center import clock
from customers import rules as customer_rules
from customers.models import Block

from .helpers import T0, consultation_in, customer_writes, db_state, events_of, fill, in_progress_with

pytestmark = pytest.mark.django_db


def _at(minutes: int):
    return T0 + timedelta(minutes=minutes)


def test_a_whole_consultation_is_told_by_its_events(center, customer, agent, agent2, manager):
    with clock.frozen_at(_at(0)):
        consultation = customer_writes(center, "문의드립니다", user_key=customer.user_key).consultation
    with clock.frozen_at(_at(1)):
        lifecycle.do_assign_to_me(consultation, actor=agent)
    with clock.frozen_at(_at(2)):
        lifecycle.do_change_assignee(consultation, actor=agent, assignee=agent2)
    with clock.frozen_at(_at(3)):
        lifecycle.do_send_message(consultation, actor=agent2, text="안녕하세요")
    with clock.frozen_at(_at(4)):
        lifecycle.do_set_important(consultation, actor=agent, important=True)
    with clock.frozen_at(_at(5)):
        lifecycle.do_set_hold(consultation, actor=manager, on_hold=True)
    with clock.frozen_at(_at(6)):
        lifecycle.do_set_hold(consultation, actor=agent2, on_hold=False)
    with clock.frozen_at(_at(7)):
        lifecycle.do_change_assignee(consultation, actor=manager, assignee=agent)
    with clock.frozen_at(_at(8)):
        lifecycle.do_close(consultation, actor=agent)

    events = events_of(consultation)
    assert [(e.kind, e.actor, e.created_at, e.data.get("old_status"), e.data.get("new_status")) for e in events] == [
        (Event.Kind.CREATED, None, _at(0), None, Status.UNASSIGNED),
        (Event.Kind.MESSAGE, None, _at(0), None, None),
        (Event.Kind.ASSIGNED, agent, _at(1), Status.UNASSIGNED, Status.WAITING),
        (Event.Kind.ASSIGNEE_CHANGED, agent, _at(2), Status.WAITING, Status.WAITING),
        (Event.Kind.STARTED, agent2, _at(3), Status.WAITING, Status.IN_PROGRESS),
        (Event.Kind.MESSAGE, agent2, _at(3), None, None),
        (Event.Kind.IMPORTANT_SET, agent, _at(4), None, None),
        (Event.Kind.HOLD_SET, manager, _at(5), None, None),
        (Event.Kind.HOLD_SET, agent2, _at(6), None, None),
        (Event.Kind.ASSIGNEE_CHANGED, manager, _at(7), Status.IN_PROGRESS, Status.IN_PROGRESS),
        (Event.Kind.CLOSED, agent, _at(8), Status.IN_PROGRESS, Status.CLOSED),
    ]
    for event in events:
        assert (event.center, event.customer) == (center, customer)
    messages = list(consultation.messages.order_by("pk"))
    assert [e.data["message_id"] for e in events if e.kind == Event.Kind.MESSAGE] == [m.pk for m in messages]
    assert [e.data["sender"] for e in events if e.kind == Event.Kind.MESSAGE] == [
        Message.Sender.CUSTOMER,
        Message.Sender.AGENT,
    ]


@pytest.mark.parametrize(
    ("close", "reason", "actor_name"),
    [
        ("end_command", CloseReason.CUSTOMER_END, None),
        ("chatbot", CloseReason.CHATBOT_SWITCH, None),
        ("agent", CloseReason.AGENT, "agent"),
        ("idle", CloseReason.IDLE_TIMEOUT, None),
        ("block", CloseReason.CUSTOMER_BLOCKED, "manager"),
    ],
)
def test_every_way_of_closing_records_who_when_and_why(center, agent, manager, close, reason, actor_name):
    consultation = in_progress_with(center, agent, at=T0)
    at = T0 + timedelta(minutes=30)
    with clock.frozen_at(at):
        if close == "end_command":
            customer_writes(center, "!종료")
        elif close == "chatbot":
            lifecycle.do_switch_to_chatbot(center, user_key=consultation.customer.user_key)
        elif close == "agent":
            lifecycle.do_close(consultation, actor=agent)
        elif close == "idle":
            lifecycle.close_idle()
        else:
            customer_rules.do_block_customer(consultation.customer, actor=manager, reason=Block.Reason.ABUSE)

    actor = {"agent": agent, "manager": manager, None: None}[actor_name]
    consultation.refresh_from_db()
    assert (consultation.status, consultation.close_reason, consultation.closed_at, consultation.closed_by) == (
        Status.CLOSED,
        reason,
        at,
        actor,
    )
    [event] = events_of(consultation, Event.Kind.CLOSED)
    assert (event.actor, event.created_at) == (actor, at)
    assert event.data == {"old_status": Status.IN_PROGRESS, "new_status": Status.CLOSED, "reason": reason}


def test_customer_events_are_recorded_with_the_customer(customer, agent, manager):
    with clock.frozen_at(_at(1)):
        customer_rules.do_update_customer(customer, actor=agent, nickname="단골", memo="VIP")
    with clock.frozen_at(_at(2)):
        customer_rules.do_block_customer(customer, actor=manager, reason=Block.Reason.ABUSE)
    with clock.frozen_at(_at(3)):
        customer_rules.do_unblock_customer(customer, actor=manager)

    events = list(Event.objects.filter(customer=customer).order_by("pk"))
    assert [(e.kind, e.actor, e.created_at) for e in events] == [
        (Event.Kind.CUSTOMER_UPDATED, agent, _at(1)),
        (Event.Kind.CUSTOMER_BLOCKED, manager, _at(2)),
        (Event.Kind.CUSTOMER_UNBLOCKED, manager, _at(3)),
    ]
    assert sorted(events[0].data["fields"]) == ["memo", "nickname"]


def test_an_edit_that_changes_nothing_records_nothing(customer, agent):
    customer_rules.do_update_customer(customer, actor=agent, nickname="단골")

    customer_rules.do_update_customer(customer, actor=agent, nickname="단골")

    assert Event.objects.filter(kind=Event.Kind.CUSTOMER_UPDATED).count() == 1


def test_events_are_append_only(center):
    customer_writes(center)
    event = Event.objects.first()

    event.data = {"tampered": True}
    with pytest.raises(ValueError, match="append-only"):
        event.save()


# --- refusals write nothing ------------------------------------------------------------------


@pytest.fixture
def cast(center, customer, agent, agent2, manager, outsider, make_consultation):
    unassigned = consultation_in(make_consultation, Status.UNASSIGNED, customer=customer)
    return SimpleNamespace(
        center=center,
        customer=customer,
        agent=agent,
        agent2=agent2,
        manager=manager,
        outsider=outsider,
        unassigned=unassigned,
        waiting=consultation_in(make_consultation, Status.WAITING, assignee=agent2),
        in_progress=consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent2),
        closed=consultation_in(make_consultation, Status.CLOSED, assignee=agent),
        make=make_consultation,
    )


REFUSED_ACTIONS = {
    "assign a waiting one": lambda c: lifecycle.do_assign_to_me(c.waiting, actor=c.agent),
    "assign a closed one": lambda c: lifecycle.do_assign_to_me(c.closed, actor=c.agent),
    "assign the sixth": lambda c: (
        fill(c.make, c.agent, Status.WAITING, 5),
        lifecycle.do_assign_to_me(c.unassigned, actor=c.agent),
    ),
    "agent assigns an unassigned one": lambda c: lifecycle.do_change_assignee(
        c.unassigned, actor=c.agent, assignee=c.agent2
    ),
    "agent hands over another's": lambda c: lifecycle.do_change_assignee(c.waiting, actor=c.agent, assignee=c.manager),
    "hand over to the same": lambda c: lifecycle.do_change_assignee(c.waiting, actor=c.manager, assignee=c.agent2),
    "hand over to an outsider": lambda c: lifecycle.do_change_assignee(c.waiting, actor=c.manager, assignee=c.outsider),
    "hand over past R7": lambda c: (
        fill(c.make, c.agent, Status.IN_PROGRESS, 3),
        lifecycle.do_change_assignee(c.in_progress, actor=c.manager, assignee=c.agent),
    ),
    "send in an unassigned one": lambda c: lifecycle.do_send_message(c.unassigned, actor=c.agent, text="x"),
    "send in another's": lambda c: lifecycle.do_send_message(c.waiting, actor=c.agent, text="x"),
    "first message past R7": lambda c: (
        fill(c.make, c.agent2, Status.IN_PROGRESS, 2),
        lifecycle.do_send_message(c.waiting, actor=c.agent2, text="x"),
    ),
    "send an empty text": lambda c: lifecycle.do_send_message(c.in_progress, actor=c.agent2, text=" "),
    "hold a waiting one": lambda c: lifecycle.do_set_hold(c.waiting, actor=c.agent2, on_hold=True),
    "hold another's": lambda c: lifecycle.do_set_hold(c.in_progress, actor=c.agent, on_hold=True),
    "close another's": lambda c: lifecycle.do_close(c.waiting, actor=c.agent),
    "close a closed one": lambda c: lifecycle.do_close(c.closed, actor=c.manager),
    "outsider marks important": lambda c: lifecycle.do_set_important(c.waiting, actor=c.outsider, important=True),
    "block with a bad reason": lambda c: customer_rules.do_block_customer(c.customer, actor=c.agent, reason="spam"),
    "unblock one not blocked": lambda c: customer_rules.do_unblock_customer(c.customer, actor=c.agent),
    "outsider edits the customer": lambda c: customer_rules.do_update_customer(c.customer, actor=c.outsider, memo="x"),
    "an empty customer message": lambda c: lifecycle.do_receive_customer_message(c.center, user_key="k", text=""),
}


@pytest.mark.parametrize("action", REFUSED_ACTIONS.values(), ids=REFUSED_ACTIONS.keys())
def test_a_refused_action_records_no_event_and_changes_nothing(cast, action):
    events_before = Event.objects.count()
    consultations_before = {
        c.pk: (c.status, c.assignee_id, c.is_important, c.is_on_hold, c.closed_at) for c in Consultation.objects.all()
    }
    state_before = db_state()

    with pytest.raises(Refused):
        action(cast)

    assert Event.objects.count() == events_before
    # Set-up rows made inside the action (fill) are the only new ones; the others are as they were.
    for pk, before in consultations_before.items():
        c = Consultation.objects.get(pk=pk)
        assert (c.status, c.assignee_id, c.is_important, c.is_on_hold, c.closed_at) == before
    assert db_state()["events"] == state_before["events"]
    assert db_state()["messages"] == state_before["messages"]
    assert db_state()["blocks"] == state_before["blocks"]
    assert db_state()["customers"][: len(state_before["customers"])] == state_before["customers"]


def test_a_refusal_reads_in_the_language_active_where_it_is_shown(center, agent, make_consultation):
    for _ in range(5):
        make_consultation(status=Status.WAITING, assignee=agent)
    with translation.override("en"):
        try:
            lifecycle.do_assign_to_me(make_consultation(), actor=agent)
        except lifecycle.Refused as refusal:
            raised = refusal
    with translation.override("ko"):
        shown = raised.message
    assert "5" in shown
    assert "the most one member can hold" not in shown


def test_a_master_stopping_or_restarting_the_center_in_the_admin_records_one_event_each(client, center, master):
    client.force_login(master.user)
    url = reverse("admin:counsel_center_center_change", args=[center.pk])
    form = {
        "name": center.name,
        "concurrent_limit": center.concurrent_limit,
        "idle_close_minutes": center.idle_close_minutes,
        "time_zone": center.time_zone,
        "outbound_url": center.outbound_url,
        "webhook_secret": center.webhook_secret,
    }  # is_operating left out: unchecked, 운영 중지

    assert client.post(url, form).status_code == 302
    assert client.post(url, {**form, "name": "새 이름"}).status_code == 302  # another edit, still stopped
    assert client.post(url, {**form, "is_operating": "on"}).status_code == 302

    changes = Event.objects.filter(center=center, kind=Event.Kind.CENTER_CHANGED).order_by("id")
    assert [event.data for event in changes] == [{"is_operating": False}, {"is_operating": True}]
