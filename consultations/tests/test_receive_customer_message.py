"""R3, R9.1, R16: what a customer's message does (do_receive_customer_message)."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext

from consultations import lifecycle
from consultations.models import CloseReason, Consultation, Event, Message, Status
from counsel_center import clock
from customers import rules as customer_rules
from customers.models import Customer

from .helpers import T0, consultation_in, customer_writes, incoming_file, refused

pytestmark = pytest.mark.django_db


def test_it_opens_an_unassigned_consultation_on_a_first_contact(center):
    with clock.frozen_at(T0):
        received = lifecycle.do_receive_customer_message(
            center,
            user_key="kakao-new",
            text="배송이 안 와요",
            profile_nickname="이서준",
            is_friend=True,
            channel_event_id="evt-1",
        )

    assert received.opened and not received.closed
    customer = Customer.objects.get(center=center, user_key="kakao-new")
    assert received.customer == customer
    assert customer.profile_nickname == "이서준"
    assert customer.is_friend is True

    consultation = Consultation.objects.get(customer=customer)
    assert received.consultation == consultation
    assert consultation.center == center
    assert consultation.status == Status.UNASSIGNED
    assert consultation.assignee is None
    assert consultation.requested_at == T0
    assert consultation.last_activity_at == T0

    message = Message.objects.get(consultation=consultation)
    assert received.message == message
    assert consultation.last_message == message
    assert message.sender == Message.Sender.CUSTOMER
    assert message.kind == Message.Kind.TEXT
    assert message.text == "배송이 안 와요"
    assert message.author is None
    assert message.created_at == T0
    assert message.channel_event_id == "evt-1"


def test_it_reuses_a_known_customer(center, customer):
    received = customer_writes(center, user_key=customer.user_key)

    assert received.customer == customer
    assert Customer.objects.filter(center=center).count() == 1
    assert received.consultation.customer == customer


@pytest.mark.parametrize("status", [Status.UNASSIGNED, Status.WAITING, Status.IN_PROGRESS])
def test_a_message_while_a_consultation_is_open_joins_it(center, customer, agent, make_consultation, status):
    consultation = consultation_in(
        make_consultation, status, customer=customer, assignee=None if status == Status.UNASSIGNED else agent
    )

    with clock.frozen_at(T0 + timedelta(minutes=3)):
        received = customer_writes(center, "아직 기다리고 있어요", user_key=customer.user_key)

    assert not received.opened and not received.closed
    assert received.consultation == consultation
    assert Consultation.objects.filter(customer=customer).count() == 1
    consultation.refresh_from_db()
    assert consultation.status == status
    assert consultation.last_message == received.message
    assert consultation.last_activity_at == T0 + timedelta(minutes=3)
    assert received.message.consultation == consultation


def test_messages_of_one_open_consultation_stay_together(center):
    first = customer_writes(center, "첫 번째")
    second = customer_writes(center, "두 번째")

    assert second.consultation == first.consultation
    assert list(first.consultation.messages.values_list("text", flat=True)) == ["첫 번째", "두 번째"]
    first.consultation.refresh_from_db()
    assert first.consultation.last_message == second.message


def test_a_message_after_the_consultation_closed_opens_a_new_one(center, customer, agent, make_consultation):
    old = consultation_in(make_consultation, Status.CLOSED, customer=customer, assignee=agent)

    received = customer_writes(center, "또 문의드려요", user_key=customer.user_key)

    assert received.opened
    assert received.consultation != old
    assert received.consultation.status == Status.UNASSIGNED
    old.refresh_from_db()
    assert old.status == Status.CLOSED
    assert old.messages.count() == 0


def test_it_receives_messages_while_the_center_is_stopped(center):
    # SPEC §1: nothing is lost while the center is stopped; only sending is refused.
    center.is_operating = False
    center.save()

    received = customer_writes(center, "운영 중지 중에도 받나요?")

    assert received.opened
    assert received.message.text == "운영 중지 중에도 받나요?"


def test_an_attachment_needs_no_text(center):
    received = customer_writes(center, "", kind=Message.Kind.IMAGE, attachment=incoming_file())

    assert received.opened
    assert received.message.kind == Message.Kind.IMAGE
    assert received.message.text == ""
    assert received.message.attachment.name == "photo.png"


def test_a_file_kind_without_its_file_is_refused(center):
    with refused("missing_file", "This message kind needs a file."):
        customer_writes(center, "", kind=Message.Kind.IMAGE)


def test_a_text_message_cannot_carry_a_file(center):
    with refused("unexpected_file", "A text message cannot carry a file."):
        customer_writes(center, "안녕하세요", attachment=incoming_file())


# --- R9.1: `!종료` ---------------------------------------------------------------


@pytest.mark.parametrize("text", ["!종료", "  !종료  ", "\n!종료\t"])
@pytest.mark.parametrize("status", [Status.UNASSIGNED, Status.WAITING, Status.IN_PROGRESS])
def test_the_end_command_closes_the_open_consultation(center, customer, agent, make_consultation, status, text):
    consultation = consultation_in(
        make_consultation, status, customer=customer, assignee=None if status == Status.UNASSIGNED else agent
    )
    at = T0 + timedelta(minutes=7)

    with clock.frozen_at(at):
        received = customer_writes(center, text, user_key=customer.user_key)

    assert received.closed and not received.opened
    assert received.consultation == consultation
    consultation.refresh_from_db()
    assert consultation.status == Status.CLOSED
    assert consultation.close_reason == CloseReason.CUSTOMER_END
    assert consultation.closed_at == at
    assert consultation.closed_by is None
    # The command itself is kept in the conversation.
    assert consultation.last_message == received.message
    assert received.message.text == text


def test_the_end_command_as_a_first_message_opens_nothing(center):
    received = customer_writes(center, "!종료", user_key="kakao-quiet")

    assert received.consultation is None
    assert received.message is None
    assert not received.opened and not received.closed
    assert not Consultation.objects.filter(customer__user_key="kakao-quiet").exists()
    assert not Message.objects.exists()
    assert not Event.objects.exists()


def test_the_end_command_after_a_close_opens_nothing(center, customer, agent, make_consultation):
    old = consultation_in(make_consultation, Status.CLOSED, customer=customer, assignee=agent)

    received = customer_writes(center, "!종료", user_key=customer.user_key)

    assert received.consultation is None
    assert list(Consultation.objects.filter(customer=customer)) == [old]


@pytest.mark.parametrize("text", ["!종료 해주세요", "종료", "!종료!", "! 종료", "!끝"])
def test_text_that_only_resembles_the_end_command_does_not_close(center, text):
    received = customer_writes(center, text)

    assert not received.closed
    received.consultation.refresh_from_db()
    assert received.consultation.status == Status.UNASSIGNED


def test_the_end_command_as_a_file_name_does_not_close(center):
    customer_writes(center, "안녕하세요")

    received = customer_writes(center, "!종료", kind=Message.Kind.FILE, attachment=incoming_file("a.pdf"))

    assert not received.closed
    received.consultation.refresh_from_db()
    assert received.consultation.status == Status.UNASSIGNED


# --- R16: a blocked customer ---------------------------------------------------------


def test_a_blocked_customer_is_refused_and_nothing_is_written(center, customer, agent):
    customer_rules.do_block_customer(customer, actor=None, reason="abuse")

    with refused("customer_blocked", "This customer is blocked."):
        customer_writes(center, "다시 왔어요", user_key=customer.user_key, profile_nickname="새이름", is_friend=True)

    customer.refresh_from_db()
    assert customer.profile_nickname == "김민지"
    assert not customer.consultations.exists()


# --- the customer's profile ------------------------------------------------------------


def test_it_keeps_the_profile_nickname_and_friend_flag_current(center, customer):
    assert customer.is_friend is False

    customer_writes(center, user_key=customer.user_key, profile_nickname="민지짱", is_friend=True)
    customer.refresh_from_db()
    assert (customer.profile_nickname, customer.is_friend) == ("민지짱", True)

    customer_writes(center, user_key=customer.user_key, profile_nickname="민지짱", is_friend=False)
    customer.refresh_from_db()
    assert (customer.profile_nickname, customer.is_friend) == ("민지짱", False)


def test_an_event_without_profile_fields_leaves_the_profile_alone(center, customer):
    customer_writes(center, user_key=customer.user_key, profile_nickname="민지짱", is_friend=True)

    customer_writes(center, user_key=customer.user_key)

    customer.refresh_from_db()
    assert (customer.profile_nickname, customer.is_friend) == ("민지짱", True)


def test_it_cuts_a_long_profile_nickname_to_the_field(center):
    received = customer_writes(center, user_key="kakao-long", profile_nickname="가" * 150)

    received.customer.refresh_from_db()
    assert received.customer.profile_nickname == "가" * 100


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_an_empty_text_is_refused(center, text):
    with refused("empty_message", "The message is empty."):
        customer_writes(center, text, user_key="kakao-new")

    assert not Customer.objects.exists()


def test_a_too_long_text_is_refused(center, customer):
    with refused("text_too_long", "A message can be at most 10000 characters."):
        customer_writes(center, "가" * (lifecycle.MAX_TEXT_LENGTH + 1), user_key=customer.user_key)


def test_a_text_at_the_length_limit_is_received(center):
    received = customer_writes(center, "가" * lifecycle.MAX_TEXT_LENGTH)

    assert len(received.message.text) == lifecycle.MAX_TEXT_LENGTH


@pytest.mark.parametrize("user_key", ["", "k" * 201])
def test_a_missing_or_too_long_customer_key_is_refused(center, user_key):
    with refused("bad_user_key", "The customer key is missing or too long."):
        customer_writes(center, user_key=user_key)


# --- the caller's transaction ----------------------------------------------------------------
# The webhook opens the transaction and records the channel's event id in it;
# the customer-side functions join it with `atomic(savepoint=False)`.


def test_it_joins_the_callers_transaction_without_a_savepoint(center, customer):
    with CaptureQueriesContext(connection) as queries:  # inside the test's own transaction
        customer_writes(center, "첫 번째", user_key=customer.user_key)
        lifecycle.do_switch_to_chatbot(center, user_key=customer.user_key)
        lifecycle.do_update_friend_status(center, user_key=customer.user_key, is_friend=True)

    assert not [query["sql"] for query in queries.captured_queries if "SAVEPOINT" in query["sql"].upper()]


def test_a_failure_inside_rolls_back_the_callers_whole_transaction(center, customer):
    def fail(sender, instance, created, **kwargs):
        raise RuntimeError("the event could not be recorded")

    post_save.connect(fail, sender=Event, weak=False)
    try:
        with pytest.raises(RuntimeError), transaction.atomic():
            Customer.objects.filter(pk=customer.pk).update(memo="the caller's own write")
            customer_writes(center, user_key=customer.user_key)
    finally:
        post_save.disconnect(fail, sender=Event)

    customer.refresh_from_db()
    assert customer.memo == ""
    assert not Consultation.objects.exists() and not Message.objects.exists()


def test_a_blocked_customer_leaves_the_callers_transaction_usable(center, customer):
    customer_rules.do_block_customer(customer, actor=None, reason="abuse")

    with transaction.atomic():
        with pytest.raises(lifecycle.Refused):
            customer_writes(center, user_key=customer.user_key, profile_nickname="새이름")
        Customer.objects.filter(pk=customer.pk).update(memo="the caller goes on")

    customer.refresh_from_db()
    assert (customer.memo, customer.profile_nickname) == ("the caller goes on", "김민지")


# --- friend status and chatbot switch ----------------------------------------------------------


def test_a_friend_status_change_is_an_event_and_a_repeat_is_not(center, customer):
    assert customer.is_friend is False

    lifecycle.do_update_friend_status(center, user_key=customer.user_key, is_friend=True)
    lifecycle.do_update_friend_status(center, user_key=customer.user_key, is_friend=True)
    lifecycle.do_update_friend_status(center, user_key="kakao-new", is_friend=True)  # first contact

    customer.refresh_from_db()
    assert customer.is_friend is True
    events = Event.objects.filter(kind=Event.Kind.CUSTOMER_UPDATED).order_by("pk")
    assert [(e.customer.user_key, e.data) for e in events] == [
        (customer.user_key, {"fields": ["is_friend"]}),
        ("kakao-new", {"fields": ["is_friend"]}),
    ]


def test_a_chatbot_switch_closes_the_open_consultation_and_a_new_customer_opens_nothing(center, customer):
    opened = customer_writes(center, user_key=customer.user_key)

    switched = lifecycle.do_switch_to_chatbot(center, user_key=customer.user_key)
    newcomer = lifecycle.do_switch_to_chatbot(center, user_key="kakao-new", profile_nickname="새 고객")

    assert switched.closed and switched.consultation == opened.consultation
    opened.consultation.refresh_from_db()
    assert (opened.consultation.status, opened.consultation.close_reason) == (
        Status.CLOSED,
        CloseReason.CHATBOT_SWITCH,
    )
    assert (newcomer.consultation, newcomer.customer.profile_nickname) == (None, "새 고객")
