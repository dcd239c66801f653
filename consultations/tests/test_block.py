"""R9.5, R16, R17: blocking a customer closes their consultation and keeps them out; unblocking lets them back."""

from datetime import timedelta

import pytest

from consultations import clock, lifecycle
from consultations.models import CloseReason, Consultation, Event, Status
from customers.models import Block

from .helpers import T0, consultation_in, customer_writes, events_of, refused

pytestmark = pytest.mark.django_db

AT = T0 + timedelta(minutes=20)


@pytest.mark.parametrize("status", [Status.UNASSIGNED, Status.WAITING, Status.IN_PROGRESS])
def test_blocking_closes_the_open_consultation_at_once(customer, agent, make_consultation, status):
    consultation = consultation_in(
        make_consultation, status, customer=customer, assignee=None if status == Status.UNASSIGNED else agent
    )

    with clock.frozen_at(AT):
        block = lifecycle.do_block_customer(customer, actor=agent, reason=Block.Reason.ABUSE, note="욕설 반복")

    block.refresh_from_db()
    assert block.customer == customer
    assert (block.reason, block.note, block.blocked_by, block.blocked_at) == ("abuse", "욕설 반복", agent, AT)
    assert block.ended_at is None
    assert customer.is_blocked
    consultation.refresh_from_db()
    assert consultation.status == Status.CLOSED
    assert consultation.close_reason == CloseReason.CUSTOMER_BLOCKED
    assert consultation.closed_at == AT
    assert consultation.closed_by == agent
    blocked, closed = events_of(consultation)
    assert (blocked.kind, blocked.actor, blocked.customer, blocked.created_at) == (
        Event.Kind.CUSTOMER_BLOCKED,
        agent,
        customer,
        AT,
    )
    assert blocked.data["reason"] == "abuse"
    assert (closed.kind, closed.actor) == (Event.Kind.CLOSED, agent)
    assert (closed.data["old_status"], closed.data["new_status"]) == (status, Status.CLOSED)
    assert closed.data["reason"] == CloseReason.CUSTOMER_BLOCKED


@pytest.mark.parametrize("reason", Block.Reason.values)
def test_each_reason_is_accepted(customer, agent, reason):
    block = lifecycle.do_block_customer(customer, actor=agent, reason=reason)

    assert Block.objects.get(pk=block.pk).reason == reason


@pytest.mark.parametrize("who", ["agent", "agent2", "manager", "master"])
def test_any_member_of_the_center_may_block(request, customer, who):
    actor = request.getfixturevalue(who)

    lifecycle.do_block_customer(customer, actor=actor, reason=Block.Reason.PROMOTION)

    assert customer.active_block().blocked_by == actor


def test_blocking_without_an_open_consultation_closes_nothing(customer, agent, make_consultation):
    old = consultation_in(make_consultation, Status.CLOSED, customer=customer, assignee=agent)
    closed_at = old.closed_at

    with clock.frozen_at(AT):
        lifecycle.do_block_customer(customer, actor=agent, reason=Block.Reason.GAMBLING)

    old.refresh_from_db()
    assert (old.closed_at, old.close_reason) == (closed_at, CloseReason.AGENT)
    [event] = Event.objects.all()
    assert (event.kind, event.customer, event.consultation) == (Event.Kind.CUSTOMER_BLOCKED, customer, None)
    assert customer.is_blocked


def test_an_operator_may_block_without_a_member(customer, make_consultation):
    # The shell command without --by.
    consultation = consultation_in(make_consultation, Status.UNASSIGNED, customer=customer)

    block = lifecycle.do_block_customer(customer, actor=None, reason=Block.Reason.OBSCENE)

    block.refresh_from_db()
    assert block.blocked_by is None
    consultation.refresh_from_db()
    assert (consultation.status, consultation.closed_by) == (Status.CLOSED, None)


def test_a_blocked_customers_messages_are_refused_and_nothing_is_written(center, customer, agent):
    customer_writes(center, "처음 문의", user_key=customer.user_key)
    lifecycle.do_block_customer(customer, actor=agent, reason=Block.Reason.ABUSE)

    for text in ["다시 왔다", "!종료"]:
        with refused("customer_blocked", "This customer is blocked."):
            customer_writes(center, text, user_key=customer.user_key)

    assert not customer.consultations.filter(status__in=[Status.UNASSIGNED, Status.WAITING, Status.IN_PROGRESS])
    assert customer.consultations.count() == 1


def test_blocking_a_blocked_customer_is_refused(customer, agent, agent2):
    with clock.frozen_at(T0):
        first = lifecycle.do_block_customer(customer, actor=agent, reason=Block.Reason.ABUSE)

    with refused("already_blocked", "This customer is already blocked."):
        lifecycle.do_block_customer(customer, actor=agent2, reason=Block.Reason.GAMBLING)

    assert list(Block.objects.all()) == [first]
    first.refresh_from_db()
    assert (first.reason, first.blocked_by) == ("abuse", agent)


@pytest.mark.parametrize("reason", ["spam", "", "ABUSE", "욕설"])
def test_an_unknown_reason_is_refused(customer, agent, make_consultation, reason):
    consultation = consultation_in(make_consultation, Status.WAITING, customer=customer, assignee=agent)

    with refused("bad_reason", "Choose a reason: abuse, promotion, obscene or gambling."):
        lifecycle.do_block_customer(customer, actor=agent, reason=reason)

    assert not customer.is_blocked
    consultation.refresh_from_db()
    assert consultation.status == Status.WAITING


# --- unblock -----------------------------------------------------------------------------


def test_unblocking_ends_the_block_and_keeps_the_history(center, customer, agent, manager):
    consultation = customer_writes(center, "욕설", user_key=customer.user_key).consultation
    with clock.frozen_at(T0):
        block = lifecycle.do_block_customer(customer, actor=agent, reason=Block.Reason.ABUSE)

    with clock.frozen_at(AT):
        returned = lifecycle.do_unblock_customer(customer, actor=manager)

    assert returned == block
    block.refresh_from_db()
    assert (block.ended_at, block.ended_by) == (AT, manager)
    assert (block.reason, block.blocked_by, block.blocked_at) == ("abuse", agent, T0)
    assert not customer.is_blocked
    assert customer.active_block() is None
    assert Block.objects.filter(customer=customer).count() == 1
    # The consultation the block closed stays closed, with its conversation.
    consultation.refresh_from_db()
    assert (consultation.status, consultation.close_reason) == (Status.CLOSED, CloseReason.CUSTOMER_BLOCKED)
    assert list(consultation.messages.values_list("text", flat=True)) == ["욕설"]
    unblocked = Event.objects.get(kind=Event.Kind.CUSTOMER_UNBLOCKED)
    assert (unblocked.actor, unblocked.customer, unblocked.created_at) == (manager, customer, AT)
    assert unblocked.data["block_id"] == block.pk


def test_an_operator_may_unblock_without_a_member(customer, agent):
    block = lifecycle.do_block_customer(customer, actor=agent, reason=Block.Reason.ABUSE)

    lifecycle.do_unblock_customer(customer, actor=None)

    block.refresh_from_db()
    assert block.ended_at is not None
    assert block.ended_by is None


def test_unblocking_a_customer_who_is_not_blocked_is_refused(customer, agent):
    with refused("not_blocked", "This customer is not blocked."):
        lifecycle.do_unblock_customer(customer, actor=agent)


def test_unblocking_twice_is_refused(customer, agent):
    lifecycle.do_block_customer(customer, actor=agent, reason=Block.Reason.ABUSE)
    lifecycle.do_unblock_customer(customer, actor=agent)

    with refused("not_blocked", "This customer is not blocked."):
        lifecycle.do_unblock_customer(customer, actor=agent)


def test_after_unblocking_a_new_message_opens_a_new_consultation(center, customer, agent):
    old = customer_writes(center, "첫 상담", user_key=customer.user_key).consultation
    lifecycle.do_block_customer(customer, actor=agent, reason=Block.Reason.PROMOTION)
    lifecycle.do_unblock_customer(customer, actor=agent)

    received = customer_writes(center, "다시 문의드립니다", user_key=customer.user_key)

    assert received.opened
    assert received.consultation != old
    assert received.consultation.status == Status.UNASSIGNED
    assert Consultation.objects.filter(customer=customer).count() == 2


def test_a_customer_can_be_blocked_again_after_an_unblock(customer, agent):
    first = lifecycle.do_block_customer(customer, actor=agent, reason=Block.Reason.ABUSE)
    lifecycle.do_unblock_customer(customer, actor=agent)

    second = lifecycle.do_block_customer(customer, actor=agent, reason=Block.Reason.GAMBLING)

    assert second != first
    assert customer.active_block() == second
    assert Block.objects.filter(customer=customer).count() == 2
