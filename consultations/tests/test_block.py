"""R9.5, R16, R17: blocking a customer closes their consultation and keeps them out; unblocking lets them back."""

from datetime import timedelta

import pytest

from consultations.models import CloseReason, Consultation, Event, Status
from counsel_center import clock
from customers import rules as customer_rules
from customers.models import Block

from .helpers import T0, consultation_in, customer_writes, events_of, refused

pytestmark = pytest.mark.django_db

AT = T0 + timedelta(minutes=20)


@pytest.mark.parametrize("status", [Status.UNASSIGNED, Status.WAITING, Status.IN_PROGRESS])
def test_blocking_closes_the_open_consultation_at_once(customer, agent, manager, make_consultation, status):
    consultation = consultation_in(
        make_consultation, status, customer=customer, assignee=None if status == Status.UNASSIGNED else agent
    )
    actor = manager if status == Status.UNASSIGNED else agent  # R16a: an agent blocks from their own consultation

    with clock.frozen_at(AT):
        block = customer_rules.do_block_customer(customer, actor=actor, reason=Block.Reason.ABUSE, note="욕설 반복")

    block.refresh_from_db()
    assert block.customer == customer
    assert (block.reason, block.note, block.blocked_by, block.blocked_at) == ("abuse", "욕설 반복", actor, AT)
    assert block.ended_at is None
    assert customer.is_blocked
    consultation.refresh_from_db()
    assert consultation.status == Status.CLOSED
    assert consultation.close_reason == CloseReason.CUSTOMER_BLOCKED
    assert consultation.closed_at == AT
    assert consultation.closed_by == actor
    blocked, closed = events_of(consultation)
    assert (blocked.kind, blocked.actor, blocked.customer, blocked.created_at) == (
        Event.Kind.CUSTOMER_BLOCKED,
        actor,
        customer,
        AT,
    )
    assert blocked.data["reason"] == "abuse"
    assert (closed.kind, closed.actor) == (Event.Kind.CLOSED, actor)
    assert (closed.data["old_status"], closed.data["new_status"]) == (status, Status.CLOSED)
    assert closed.data["reason"] == CloseReason.CUSTOMER_BLOCKED


@pytest.mark.parametrize("reason", Block.Reason.values)
def test_each_reason_is_accepted(customer, manager, reason):
    block = customer_rules.do_block_customer(customer, actor=manager, reason=reason)

    assert Block.objects.get(pk=block.pk).reason == reason


@pytest.mark.parametrize("who", ["manager", "master"])
def test_masters_and_managers_may_block_any_customer_of_their_center(request, customer, who):
    actor = request.getfixturevalue(who)

    customer_rules.do_block_customer(customer, actor=actor, reason=Block.Reason.PROMOTION)

    assert customer.blocks.active().get().blocked_by == actor


@pytest.mark.parametrize("status", [Status.WAITING, Status.IN_PROGRESS])
def test_an_agent_may_block_the_customer_of_a_consultation_assigned_to_them(customer, agent, make_consultation, status):
    consultation_in(make_consultation, status, customer=customer, assignee=agent)

    customer_rules.do_block_customer(customer, actor=agent, reason=Block.Reason.PROMOTION)

    assert customer.blocks.active().get().blocked_by == agent


@pytest.mark.parametrize("assignee", [None, "agent2"])
def test_an_agent_may_not_block_a_customer_whose_consultation_is_not_theirs(
    request, customer, agent, make_consultation, assignee
):
    status = Status.UNASSIGNED if assignee is None else Status.WAITING
    member = request.getfixturevalue(assignee) if assignee else None
    consultation = consultation_in(make_consultation, status, customer=customer, assignee=member)

    with refused(
        "not_assignee", "Only the assignee of this customer's open consultation, a master or a manager can block them."
    ):
        customer_rules.do_block_customer(customer, actor=agent, reason=Block.Reason.ABUSE)

    assert not customer.is_blocked
    consultation.refresh_from_db()
    assert consultation.status == status


def test_blocking_without_an_open_consultation_closes_nothing(customer, agent, manager, make_consultation):
    old = consultation_in(make_consultation, Status.CLOSED, customer=customer, assignee=agent)
    closed_at = old.closed_at

    with clock.frozen_at(AT):
        customer_rules.do_block_customer(customer, actor=manager, reason=Block.Reason.GAMBLING)

    old.refresh_from_db()
    assert (old.closed_at, old.close_reason) == (closed_at, CloseReason.AGENT)
    [event] = Event.objects.all()
    assert (event.kind, event.customer, event.consultation) == (Event.Kind.CUSTOMER_BLOCKED, customer, None)
    assert customer.is_blocked


def test_an_operator_may_block_without_a_member(customer, make_consultation):
    # `manage.py block_customer` without --by (customers/management/commands/block_customer.py).
    consultation = consultation_in(make_consultation, Status.UNASSIGNED, customer=customer)

    block = customer_rules.do_block_customer(customer, actor=None, reason=Block.Reason.OBSCENE)

    block.refresh_from_db()
    assert block.blocked_by is None
    consultation.refresh_from_db()
    assert (consultation.status, consultation.closed_by) == (Status.CLOSED, None)


def test_a_blocked_customers_messages_are_refused_and_nothing_is_written(center, customer, manager):
    customer_writes(center, "처음 문의", user_key=customer.user_key)
    customer_rules.do_block_customer(customer, actor=manager, reason=Block.Reason.ABUSE)

    for text in ["다시 왔다", "!종료"]:
        with refused("customer_blocked", "This customer is blocked."):
            customer_writes(center, text, user_key=customer.user_key)

    assert not customer.consultations.filter(status__in=[Status.UNASSIGNED, Status.WAITING, Status.IN_PROGRESS])
    assert customer.consultations.count() == 1


def test_blocking_a_blocked_customer_is_refused(customer, manager, master):
    with clock.frozen_at(T0):
        first = customer_rules.do_block_customer(customer, actor=manager, reason=Block.Reason.ABUSE)

    with refused("already_blocked", "This customer is already blocked."):
        customer_rules.do_block_customer(customer, actor=master, reason=Block.Reason.GAMBLING)

    assert list(Block.objects.all()) == [first]
    first.refresh_from_db()
    assert (first.reason, first.blocked_by) == ("abuse", manager)


@pytest.mark.parametrize("reason", ["spam", "", "ABUSE", "욕설"])
def test_an_unknown_reason_is_refused(customer, agent, make_consultation, reason):
    consultation = consultation_in(make_consultation, Status.WAITING, customer=customer, assignee=agent)

    with refused("bad_reason", "Choose a reason: abuse, promotion, obscene or gambling."):
        customer_rules.do_block_customer(customer, actor=agent, reason=reason)

    assert not customer.is_blocked
    consultation.refresh_from_db()
    assert consultation.status == Status.WAITING


# --- unblock -----------------------------------------------------------------------------


def test_unblocking_ends_the_block_and_keeps_the_history(center, customer, master, manager):
    consultation = customer_writes(center, "욕설", user_key=customer.user_key).consultation
    with clock.frozen_at(T0):
        block = customer_rules.do_block_customer(customer, actor=master, reason=Block.Reason.ABUSE)

    with clock.frozen_at(AT):
        returned = customer_rules.do_unblock_customer(customer, actor=manager)

    assert returned == block
    block.refresh_from_db()
    assert (block.ended_at, block.ended_by) == (AT, manager)
    assert (block.reason, block.blocked_by, block.blocked_at) == ("abuse", master, T0)
    assert not customer.is_blocked
    assert not customer.blocks.active().exists()
    assert Block.objects.filter(customer=customer).count() == 1
    # The consultation the block closed stays closed, with its conversation.
    consultation.refresh_from_db()
    assert (consultation.status, consultation.close_reason) == (Status.CLOSED, CloseReason.CUSTOMER_BLOCKED)
    assert list(consultation.messages.values_list("text", flat=True)) == ["욕설"]
    unblocked = Event.objects.get(kind=Event.Kind.CUSTOMER_UNBLOCKED)
    assert (unblocked.actor, unblocked.customer, unblocked.created_at) == (manager, customer, AT)
    assert unblocked.data["block_id"] == block.pk


def test_an_operator_may_unblock_without_a_member(customer, manager):
    block = customer_rules.do_block_customer(customer, actor=manager, reason=Block.Reason.ABUSE)

    customer_rules.do_unblock_customer(customer, actor=None)

    block.refresh_from_db()
    assert block.ended_at is not None
    assert block.ended_by is None


def test_unblocking_a_customer_who_is_not_blocked_is_refused(customer, manager):
    with refused("not_blocked", "This customer is not blocked."):
        customer_rules.do_unblock_customer(customer, actor=manager)


def test_unblocking_twice_is_refused(customer, manager):
    customer_rules.do_block_customer(customer, actor=manager, reason=Block.Reason.ABUSE)
    customer_rules.do_unblock_customer(customer, actor=manager)

    with refused("not_blocked", "This customer is not blocked."):
        customer_rules.do_unblock_customer(customer, actor=manager)


def test_after_unblocking_a_new_message_opens_a_new_consultation(center, customer, manager):
    old = customer_writes(center, "첫 상담", user_key=customer.user_key).consultation
    customer_rules.do_block_customer(customer, actor=manager, reason=Block.Reason.PROMOTION)
    customer_rules.do_unblock_customer(customer, actor=manager)

    received = customer_writes(center, "다시 문의드립니다", user_key=customer.user_key)

    assert received.opened
    assert received.consultation != old
    assert received.consultation.status == Status.UNASSIGNED
    assert Consultation.objects.filter(customer=customer).count() == 2


def test_a_customer_can_be_blocked_again_after_an_unblock(customer, manager):
    first = customer_rules.do_block_customer(customer, actor=manager, reason=Block.Reason.ABUSE)
    customer_rules.do_unblock_customer(customer, actor=manager)

    second = customer_rules.do_block_customer(customer, actor=manager, reason=Block.Reason.GAMBLING)

    assert second != first
    assert customer.blocks.active().get() == second
    assert Block.objects.filter(customer=customer).count() == 2


@pytest.mark.parametrize("who", ["agent", "agent2"])
def test_an_agent_may_not_unblock_even_one_they_blocked(request, customer, agent, make_consultation, who):
    consultation_in(make_consultation, Status.WAITING, customer=customer, assignee=agent)
    block = customer_rules.do_block_customer(customer, actor=agent, reason=Block.Reason.ABUSE)

    with refused("not_admin", "Only a master or a manager can unblock a customer."):
        customer_rules.do_unblock_customer(customer, actor=request.getfixturevalue(who))

    block.refresh_from_db()
    assert block.ended_at is None


def test_the_count_of_refused_messages_starts_again_with_a_new_block(center, customer, manager):
    customer_rules.do_block_customer(customer, actor=manager, reason=Block.Reason.ABUSE)
    customer_rules.do_record_blocked_attempt(center, user_key=customer.user_key)
    customer_rules.do_record_blocked_attempt(center, user_key=customer.user_key)
    customer.refresh_from_db()
    assert customer.blocked_attempts == 2
    customer_rules.do_unblock_customer(customer, actor=manager)

    customer_rules.do_block_customer(customer, actor=manager, reason=Block.Reason.GAMBLING)

    customer.refresh_from_db()
    assert (customer.blocked_attempts, customer.last_blocked_attempt_at) == (0, None)
    assert Block.objects.filter(customer=customer).count() == 2  # the history is kept
