"""R9.4 idle auto-close: in progress, not on hold, the agent spoke last, and the customer stayed silent."""

from datetime import timedelta

import pytest

from consultations import lifecycle
from consultations.models import CloseReason, Event, Status
from counsel_center import clock

from .helpers import T0, customer_writes, events_of, in_progress_with

pytestmark = pytest.mark.django_db

IDLE = timedelta(minutes=10)  # the default idle auto-close time
SECOND = timedelta(seconds=1)


@pytest.fixture
def answered(center, agent):
    """In progress; the agent's first answer, at T0, is the last message."""
    return in_progress_with(center, agent, at=T0)


def test_the_default_idle_time_is_ten_minutes(center):
    assert center.idle_close_minutes == 10


def test_it_closes_when_the_customer_has_not_answered_for_the_idle_time(answered):
    now = T0 + IDLE + timedelta(seconds=30)

    closed = lifecycle.close_idle(now=now)

    assert closed == [answered.pk]
    answered.refresh_from_db()
    assert answered.status == Status.CLOSED
    assert answered.close_reason == CloseReason.IDLE_TIMEOUT
    assert answered.closed_at == now
    assert answered.closed_by is None
    [event] = events_of(answered, Event.Kind.CLOSED)
    assert (event.actor, event.created_at) == (None, now)
    assert (event.data["old_status"], event.data["new_status"]) == (Status.IN_PROGRESS, Status.CLOSED)
    assert event.data["reason"] == CloseReason.IDLE_TIMEOUT


def test_it_does_not_close_a_second_before_the_idle_time(answered):
    assert lifecycle.close_idle(now=T0 + IDLE - SECOND) == []

    answered.refresh_from_db()
    assert answered.status == Status.IN_PROGRESS
    assert events_of(answered, Event.Kind.CLOSED) == []


def test_it_closes_at_exactly_the_idle_time(answered):
    assert lifecycle.close_idle(now=T0 + IDLE) == [answered.pk]

    answered.refresh_from_db()
    assert answered.status == Status.CLOSED


def test_it_reads_the_lifecycle_clock_when_no_time_is_given(answered):
    with clock.frozen_at(T0 + IDLE - SECOND):
        assert lifecycle.close_idle() == []
    with clock.frozen_at(T0 + IDLE):
        assert lifecycle.close_idle() == [answered.pk]

    answered.refresh_from_db()
    assert answered.closed_at == T0 + IDLE


def test_it_never_closes_a_consultation_on_hold(answered, agent):
    lifecycle.do_set_hold(answered, actor=agent, on_hold=True)

    assert lifecycle.close_idle(now=T0 + timedelta(days=2)) == []

    answered.refresh_from_db()
    assert answered.status == Status.IN_PROGRESS
    assert answered.is_on_hold


def test_after_the_hold_is_released_it_closes_again(answered, agent):
    lifecycle.do_set_hold(answered, actor=agent, on_hold=True)
    lifecycle.do_set_hold(answered, actor=agent, on_hold=False)

    assert lifecycle.close_idle(now=T0 + IDLE) == [answered.pk]


def test_it_does_not_close_when_the_customer_answered_last(center, answered):
    with clock.frozen_at(T0 + timedelta(minutes=2)):
        customer_writes(center, "잠시만요, 확인해볼게요")

    # The customer waits for the agent now; however long, this is not the customer's silence.
    assert lifecycle.close_idle(now=T0 + timedelta(minutes=2) + IDLE) == []
    assert lifecycle.close_idle(now=T0 + timedelta(days=1)) == []

    answered.refresh_from_db()
    assert answered.status == Status.IN_PROGRESS


def test_the_agents_next_message_starts_the_idle_time_again(center, agent, answered):
    with clock.frozen_at(T0 + timedelta(minutes=2)):
        customer_writes(center, "주문번호는 1234입니다")
    with clock.frozen_at(T0 + timedelta(minutes=5)):
        lifecycle.do_send_message(answered, actor=agent, text="확인했습니다. 더 궁금하신 점 있으세요?")

    assert lifecycle.close_idle(now=T0 + timedelta(minutes=5) + IDLE - SECOND) == []
    assert lifecycle.close_idle(now=T0 + timedelta(minutes=5) + IDLE) == [answered.pk]


@pytest.mark.parametrize("assign", [False, True])
def test_it_does_not_close_a_consultation_that_has_not_started(center, agent, assign):
    with clock.frozen_at(T0):
        consultation = customer_writes(center, "상담원 연결해주세요").consultation
        if assign:
            lifecycle.do_assign_to_me(consultation, actor=agent)

    assert lifecycle.close_idle(now=T0 + timedelta(days=1)) == []

    consultation.refresh_from_db()
    assert consultation.status == (Status.WAITING if assign else Status.UNASSIGNED)


def test_it_respects_each_centers_idle_time(center, other_center, agent, outsider):
    center.idle_close_minutes = 30
    center.save()
    other_center.idle_close_minutes = 5
    other_center.save()
    alpha = in_progress_with(center, agent, at=T0, user_key="alpha-user")
    beta = in_progress_with(other_center, outsider, at=T0, user_key="beta-user")

    assert lifecycle.close_idle(now=T0 + timedelta(minutes=5)) == [beta.pk]
    assert lifecycle.close_idle(now=T0 + timedelta(minutes=30) - SECOND) == []
    assert lifecycle.close_idle(now=T0 + timedelta(minutes=30)) == [alpha.pk]

    alpha.refresh_from_db()
    beta.refresh_from_db()
    assert (alpha.closed_at, beta.closed_at) == (T0 + timedelta(minutes=30), T0 + timedelta(minutes=5))


def test_it_closes_only_the_idle_ones(center, agent, agent2):
    idle = in_progress_with(center, agent, at=T0, user_key="idle")
    recent = in_progress_with(center, agent2, at=T0 + timedelta(minutes=5), user_key="recent")

    assert lifecycle.close_idle(now=T0 + IDLE) == [idle.pk]

    recent.refresh_from_db()
    assert recent.status == Status.IN_PROGRESS


def test_it_is_idempotent(answered):
    now = T0 + IDLE

    assert lifecycle.close_idle(now=now) == [answered.pk]
    assert lifecycle.close_idle(now=now) == []
    assert lifecycle.close_idle(now=now + timedelta(hours=1)) == []

    answered.refresh_from_db()
    assert answered.closed_at == now
    assert len(events_of(answered, Event.Kind.CLOSED)) == 1


def test_it_leaves_an_already_closed_consultation_alone(answered, agent):
    with clock.frozen_at(T0 + timedelta(minutes=1)):
        lifecycle.do_close(answered, actor=agent)

    assert lifecycle.close_idle(now=T0 + IDLE) == []

    answered.refresh_from_db()
    assert (answered.close_reason, answered.closed_by) == (CloseReason.AGENT, agent)


def test_after_an_idle_close_the_customer_opens_a_new_consultation(center, answered):
    lifecycle.close_idle(now=T0 + IDLE)

    with clock.frozen_at(T0 + IDLE + timedelta(minutes=1)):
        received = customer_writes(center, "아까 답장을 못 했어요")

    assert received.opened
    assert received.consultation != answered


def test_it_waits_for_the_new_assignee_after_a_handover(center, agent, agent2, manager, make_consultation):
    """R9.4 says the last message must be the assignee's: a handover restarts the wait."""
    consultation = make_consultation(status=Status.WAITING, assignee=agent)
    long_ago = T0 - timedelta(hours=1)
    with clock.frozen_at(long_ago):
        lifecycle.do_send_message(consultation, actor=agent, text="확인해 보겠습니다.")
    lifecycle.do_change_assignee(consultation, actor=manager, assignee=agent2)

    assert lifecycle.close_idle(now=T0) == []

    consultation.refresh_from_db()
    assert consultation.status == Status.IN_PROGRESS
