"""R7 the first message starts a consultation (with the concurrent limit), R8 when sending is refused."""

from datetime import timedelta

import pytest
from django.utils import translation

from consultations import lifecycle
from consultations.models import Event, Message, Status
from counsel_center import clock

from .helpers import T0, consultation_in, db_state, events_of, fill, incoming_file, refused

pytestmark = pytest.mark.django_db

NOT_SENDABLE = "Messages can be sent only while the consultation is waiting or in progress."
NOT_MINE = "You can send messages only in consultations assigned to you."
ON_HOLD = "This consultation is on hold; release the hold to send messages."
CENTER_STOPPED = "The center is stopped (운영 중지); sending is paused."


# --- R7 ---------------------------------------------------------------------------------


def test_the_first_message_starts_the_consultation(agent, make_consultation):
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent)
    at = T0 + timedelta(minutes=4)

    with clock.frozen_at(at):
        message = lifecycle.do_send_message(consultation, actor=agent, text="안녕하세요, 무엇을 도와드릴까요?")

    consultation.refresh_from_db()
    assert consultation.status == Status.IN_PROGRESS
    assert consultation.first_response_at == at
    assert consultation.last_message == message
    assert consultation.last_activity_at == at
    message.refresh_from_db()
    assert message.consultation == consultation
    assert message.sender == Message.Sender.AGENT
    assert message.author == agent
    assert message.kind == Message.Kind.TEXT
    assert message.text == "안녕하세요, 무엇을 도와드릴까요?"
    assert message.created_at == at
    started, created = events_of(consultation)
    assert (started.kind, started.actor, started.created_at) == (Event.Kind.STARTED, agent, at)
    assert (started.data["old_status"], started.data["new_status"]) == (Status.WAITING, Status.IN_PROGRESS)
    assert (created.kind, created.data["message_id"]) == (Event.Kind.MESSAGE, message.pk)


def test_later_messages_keep_the_first_response_time(agent, make_consultation):
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent)
    with clock.frozen_at(T0):
        lifecycle.do_send_message(consultation, actor=agent, text="첫 답변")

    with clock.frozen_at(T0 + timedelta(minutes=1)):
        second = lifecycle.do_send_message(consultation, actor=agent, text="두 번째 답변")

    consultation.refresh_from_db()
    assert consultation.status == Status.IN_PROGRESS
    assert consultation.first_response_at == T0
    assert consultation.last_message == second
    assert consultation.last_activity_at == T0 + timedelta(minutes=1)
    assert [e.kind for e in events_of(consultation)] == [Event.Kind.STARTED, Event.Kind.MESSAGE, Event.Kind.MESSAGE]


def test_the_first_message_at_the_concurrent_limit_is_refused(agent, make_consultation):
    fill(make_consultation, agent, Status.IN_PROGRESS, 3)
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent)

    with refused("concurrent_limit", "Alice already has 3 consultations in progress, the center's concurrent limit."):
        lifecycle.do_send_message(consultation, actor=agent, text="안녕하세요")

    consultation.refresh_from_db()
    assert consultation.status == Status.WAITING
    assert consultation.first_response_at is None
    assert not consultation.messages.exists()


def test_the_first_message_below_the_concurrent_limit_is_sent(agent, make_consultation):
    fill(make_consultation, agent, Status.IN_PROGRESS, 2)
    fill(make_consultation, agent, Status.CLOSED, 5)
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent)

    lifecycle.do_send_message(consultation, actor=agent, text="안녕하세요")

    consultation.refresh_from_db()
    assert consultation.status == Status.IN_PROGRESS
    assert agent.assigned_consultations.filter(status=Status.IN_PROGRESS).count() == 3


def test_the_concurrent_limit_is_the_centers(center, agent, make_consultation):
    center.concurrent_limit = 1
    center.save()
    fill(make_consultation, agent, Status.IN_PROGRESS, 1)
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent)

    with refused("concurrent_limit", "Alice already has 1 consultation in progress, the center's concurrent limit."):
        lifecycle.do_send_message(consultation, actor=agent, text="안녕하세요")


def test_a_higher_center_limit_allows_more(center, agent, make_consultation):
    center.concurrent_limit = 5
    center.save()
    fill(make_consultation, agent, Status.IN_PROGRESS, 4)
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent)

    lifecycle.do_send_message(consultation, actor=agent, text="안녕하세요")

    consultation.refresh_from_db()
    assert consultation.status == Status.IN_PROGRESS


def test_other_members_consultations_do_not_count(agent, agent2, make_consultation):
    fill(make_consultation, agent2, Status.IN_PROGRESS, 3)
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent)

    lifecycle.do_send_message(consultation, actor=agent, text="안녕하세요")

    consultation.refresh_from_db()
    assert consultation.status == Status.IN_PROGRESS


def test_at_the_limit_one_still_writes_in_consultations_already_started(agent, make_consultation):
    [consultation, *_] = fill(make_consultation, agent, Status.IN_PROGRESS, 3)

    message = lifecycle.do_send_message(consultation, actor=agent, text="계속 상담합니다")

    consultation.refresh_from_db()
    assert consultation.last_message == message


def test_an_attachment_needs_no_text(agent, make_consultation):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)

    message = lifecycle.do_send_message(
        consultation, actor=agent, text="", kind=Message.Kind.IMAGE, attachment=incoming_file()
    )

    assert (message.kind, message.text) == (Message.Kind.IMAGE, "")
    assert message.attachment.size == len(b"not really a png")


# --- R8 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [Status.UNASSIGNED, Status.CLOSED])
def test_sending_outside_waiting_or_in_progress_is_refused(agent, make_consultation, status):
    consultation = consultation_in(make_consultation, status, assignee=None if status == Status.UNASSIGNED else agent)

    with refused("not_sendable", NOT_SENDABLE):
        lifecycle.do_send_message(consultation, actor=agent, text="안녕하세요")

    consultation.refresh_from_db()
    assert consultation.status == status


@pytest.mark.parametrize("who", ["agent", "manager", "master"])
@pytest.mark.parametrize("status", [Status.WAITING, Status.IN_PROGRESS])
def test_sending_in_a_consultation_not_mine_is_refused_even_for_admins(request, agent2, make_consultation, who, status):
    consultation = consultation_in(make_consultation, status, assignee=agent2)

    with refused("not_assignee", NOT_MINE):
        lifecycle.do_send_message(consultation, actor=request.getfixturevalue(who), text="안녕하세요")

    consultation.refresh_from_db()
    assert consultation.status == status


def test_sending_on_hold_is_refused(agent, make_consultation):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent, is_on_hold=True)

    with refused("on_hold", ON_HOLD):
        lifecycle.do_send_message(consultation, actor=agent, text="안녕하세요")


def test_sending_after_the_hold_is_released_works(agent, make_consultation):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent, is_on_hold=True)

    lifecycle.do_set_hold(consultation, actor=agent, on_hold=False)
    message = lifecycle.do_send_message(consultation, actor=agent, text="다시 시작합니다")

    consultation.refresh_from_db()
    assert consultation.last_message == message


@pytest.mark.parametrize("status", [Status.WAITING, Status.IN_PROGRESS])
def test_sending_while_the_center_is_stopped_is_refused(center, agent, make_consultation, status):
    center.is_operating = False
    center.save()
    consultation = consultation_in(make_consultation, status, assignee=agent)

    with refused("center_stopped", CENTER_STOPPED):
        lifecycle.do_send_message(consultation, actor=agent, text="안녕하세요")

    consultation.refresh_from_db()
    assert consultation.status == status


@pytest.mark.parametrize("text", ["", "  ", "\n"])
def test_an_empty_text_is_refused(agent, make_consultation, text):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)

    with refused("empty_message", "The message is empty."):
        lifecycle.do_send_message(consultation, actor=agent, text=text)


def test_a_too_long_text_is_refused(agent, make_consultation):
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent)

    with refused("text_too_long", "A message can be at most 10000 characters."):
        lifecycle.do_send_message(consultation, actor=agent, text="가" * (lifecycle.MAX_TEXT_LENGTH + 1))

    consultation.refresh_from_db()
    assert consultation.status == Status.WAITING


def test_an_inactive_assignee_cannot_send(agent, make_consultation):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)
    agent.is_active = False
    agent.save()

    with refused("inactive_member", "Your membership in this center is not active."):
        lifecycle.do_send_message(consultation, actor=agent, text="안녕하세요")


# --- send_refusal: what the composer shows in advance ------------------------------------------


@pytest.mark.parametrize("status", [Status.WAITING, Status.IN_PROGRESS])
def test_send_refusal_is_none_when_i_may_send(agent, make_consultation, status):
    consultation = consultation_in(make_consultation, status, assignee=agent)

    assert lifecycle.send_refusal(consultation, agent) is None


def _refusal_text(refusal) -> str:
    with translation.override("en"):
        return str(refusal.message)


def test_send_refusal_explains_each_reason_and_writes_nothing(center, agent, agent2, make_consultation):
    cases = [
        (consultation_in(make_consultation, Status.UNASSIGNED), agent, "not_sendable", NOT_SENDABLE),
        (consultation_in(make_consultation, Status.CLOSED, assignee=agent), agent, "not_sendable", NOT_SENDABLE),
        (consultation_in(make_consultation, Status.WAITING, assignee=agent2), agent, "not_assignee", NOT_MINE),
        (
            consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent, is_on_hold=True),
            agent,
            "on_hold",
            ON_HOLD,
        ),
    ]
    before = db_state()

    for consultation, member, code, text in cases:
        with translation.override("en"):
            refusal = lifecycle.send_refusal(consultation, member)
        assert refusal is not None, code
        assert (refusal.code, _refusal_text(refusal)) == (code, text)
        with translation.override("ko"):
            assert str(refusal.message).strip()

    assert db_state() == before


def test_send_refusal_says_when_the_center_is_stopped(center, agent, make_consultation):
    center.is_operating = False
    center.save()
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)

    refusal = lifecycle.send_refusal(consultation, agent)

    assert refusal is not None
    assert (refusal.code, _refusal_text(refusal)) == ("center_stopped", CENTER_STOPPED)


def test_send_refusal_gives_the_first_reason_in_order(center, agent, agent2, make_consultation):
    # Closed and not mine: the state is explained first; on hold and stopped: the hold first.
    center.is_operating = False
    center.save()
    closed = consultation_in(make_consultation, Status.CLOSED, assignee=agent2)
    held = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent, is_on_hold=True)

    assert lifecycle.send_refusal(closed, agent).code == "not_sendable"
    assert lifecycle.send_refusal(held, agent).code == "on_hold"


def test_send_refusal_for_another_centers_member_is_not_found(agent, outsider, make_consultation):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)

    refusal = lifecycle.send_refusal(consultation, outsider)

    assert refusal is not None
    assert (refusal.code, _refusal_text(refusal)) == ("not_found", "The consultation was not found.")
