"""R1 through the lifecycle: a member of center beta cannot act on anything of center alpha."""

import pytest

from consultations import lifecycle
from consultations.models import Consultation, Status
from customers import rules as customer_rules
from customers.models import Block, Customer

from .helpers import consultation_in, customer_writes, in_progress_with, refused

pytestmark = pytest.mark.django_db

NO_CONSULTATION = "The consultation was not found."
NO_CUSTOMER = "The customer was not found."


@pytest.fixture
def alphas(agent, make_consultation):
    return {
        Status.UNASSIGNED: consultation_in(make_consultation, Status.UNASSIGNED),
        Status.WAITING: consultation_in(make_consultation, Status.WAITING, assignee=agent),
        Status.IN_PROGRESS: consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent),
        Status.CLOSED: consultation_in(make_consultation, Status.CLOSED, assignee=agent),
    }


@pytest.mark.parametrize("status", [Status.UNASSIGNED, Status.WAITING, Status.IN_PROGRESS, Status.CLOSED])
def test_an_outsider_cannot_assign_to_themselves(alphas, outsider, status):
    with refused("not_found", NO_CONSULTATION):
        lifecycle.do_assign_to_me(alphas[status], actor=outsider)


@pytest.mark.parametrize("status", [Status.UNASSIGNED, Status.WAITING, Status.IN_PROGRESS])
@pytest.mark.parametrize("to", ["outsider", "agent2"])
def test_an_outsider_cannot_change_the_assignee(request, alphas, outsider, status, to):
    with refused("not_found", NO_CONSULTATION):
        lifecycle.do_change_assignee(alphas[status], actor=outsider, assignee=request.getfixturevalue(to))


def test_an_alpha_admin_cannot_hand_a_consultation_to_an_outsider(alphas, manager, outsider):
    with refused("bad_assignee", "Oscar is not an active member of this center."):
        lifecycle.do_change_assignee(alphas[Status.WAITING], actor=manager, assignee=outsider)


@pytest.mark.parametrize("status", [Status.WAITING, Status.IN_PROGRESS])
def test_an_outsider_cannot_send(alphas, outsider, status):
    with refused("not_found", NO_CONSULTATION):
        lifecycle.do_send_message(alphas[status], actor=outsider, text="안녕하세요")


def test_an_outsider_assigned_by_a_forged_row_still_cannot_send(agent, outsider, make_consultation):
    # Even if a row named the outsider as assignee, their center decides.
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=outsider)

    with refused("not_found", NO_CONSULTATION):
        lifecycle.do_send_message(consultation, actor=outsider, text="안녕하세요")


@pytest.mark.parametrize("status", [Status.UNASSIGNED, Status.WAITING, Status.IN_PROGRESS, Status.CLOSED])
def test_an_outsider_cannot_mark_important(alphas, outsider, status):
    with refused("not_found", NO_CONSULTATION):
        lifecycle.do_set_important(alphas[status], actor=outsider, important=True)

    alphas[status].refresh_from_db()
    assert alphas[status].is_important is False


def test_an_outsider_cannot_set_the_hold(alphas, outsider):
    with refused("not_found", NO_CONSULTATION):
        lifecycle.do_set_hold(alphas[Status.IN_PROGRESS], actor=outsider, on_hold=True)


@pytest.mark.parametrize("status", [Status.UNASSIGNED, Status.WAITING, Status.IN_PROGRESS, Status.CLOSED])
def test_an_outsider_cannot_close(alphas, outsider, status):
    with refused("not_found", NO_CONSULTATION):
        lifecycle.do_close(alphas[status], actor=outsider)

    alphas[status].refresh_from_db()
    assert alphas[status].status == status


def test_an_inactive_outsider_is_still_not_found(alphas, outsider):
    outsider.is_active = False
    outsider.save()

    with refused("not_found", NO_CONSULTATION):
        lifecycle.do_close(alphas[Status.WAITING], actor=outsider)


def test_an_outsider_cannot_edit_a_customer(customer, outsider):
    with refused("not_found", NO_CUSTOMER):
        customer_rules.do_update_customer(customer, actor=outsider, nickname="탈취", memo="메모")

    customer.refresh_from_db()
    assert (customer.nickname, customer.memo, customer.memo_updated_by) == ("", "", None)


def test_an_outsider_cannot_block_a_customer(center, customer, outsider):
    consultation = customer_writes(center, user_key=customer.user_key).consultation

    with refused("not_found", NO_CUSTOMER):
        customer_rules.do_block_customer(customer, actor=outsider, reason=Block.Reason.ABUSE)

    assert not customer.is_blocked
    consultation.refresh_from_db()
    assert consultation.status == Status.UNASSIGNED


def test_an_outsider_cannot_unblock_a_customer(customer, agent, outsider):
    block = customer_rules.do_block_customer(customer, actor=None, reason=Block.Reason.ABUSE)

    with refused("not_found", NO_CUSTOMER):
        customer_rules.do_unblock_customer(customer, actor=outsider)

    block.refresh_from_db()
    assert block.ended_at is None
    assert customer.is_blocked


def test_the_same_channel_key_in_another_center_is_another_customer(center, other_center, customer):
    alpha = customer_writes(center, "알파에 문의", user_key=customer.user_key).consultation

    beta = customer_writes(other_center, "베타에 문의", user_key=customer.user_key)

    assert beta.opened
    assert beta.customer != customer
    assert beta.customer.center == other_center
    assert beta.consultation.center == other_center
    assert Customer.objects.filter(user_key=customer.user_key).count() == 2
    alpha.refresh_from_db()
    assert list(alpha.messages.values_list("text", flat=True)) == ["알파에 문의"]


def test_a_chatbot_switch_in_another_center_leaves_alpha_open(center, other_center, customer):
    alpha = customer_writes(center, user_key=customer.user_key).consultation

    lifecycle.do_switch_to_chatbot(other_center, user_key=customer.user_key)

    alpha.refresh_from_db()
    assert alpha.status == Status.UNASSIGNED


def test_a_block_in_another_center_does_not_keep_the_customer_out_of_alpha(center, other_center, customer, outsider):
    beta_customer = customer_writes(other_center, user_key=customer.user_key).customer
    customer_rules.do_block_customer(beta_customer, actor=outsider, reason=Block.Reason.ABUSE)

    received = customer_writes(center, user_key=customer.user_key)

    assert received.opened
    assert received.customer == customer


def test_an_outsider_works_in_their_own_center(other_center, outsider):
    consultation = in_progress_with(other_center, outsider, user_key="beta-user")

    lifecycle.do_close(consultation, actor=outsider)

    consultation.refresh_from_db()
    assert consultation.status == Status.CLOSED
    assert Consultation.objects.filter(center=other_center).count() == 1
