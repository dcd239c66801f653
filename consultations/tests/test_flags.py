"""R10 the internal flags: important (중요) any time, on hold (보류) only while in progress."""

from datetime import timedelta

import pytest

from consultations import lifecycle
from consultations.models import Event, Status
from counsel_center import clock

from .helpers import T0, consultation_in, events_of, refused

pytestmark = pytest.mark.django_db

ALL_STATES = [Status.UNASSIGNED, Status.WAITING, Status.IN_PROGRESS, Status.CLOSED]
AT = T0 + timedelta(minutes=9)


def _in(make_consultation, status, assignee, **kwargs):
    return consultation_in(
        make_consultation, status, assignee=None if status == Status.UNASSIGNED else assignee, **kwargs
    )


# --- important ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["agent", "agent2", "manager", "master"])
@pytest.mark.parametrize("status", ALL_STATES)
def test_any_member_marks_any_consultation_important_in_any_state(request, agent, make_consultation, who, status):
    actor = request.getfixturevalue(who)
    consultation = _in(make_consultation, status, agent)

    with clock.frozen_at(AT):
        returned = lifecycle.do_set_important(consultation, actor=actor, important=True)

    assert returned == consultation
    consultation.refresh_from_db()
    assert consultation.is_important is True
    assert consultation.status == status
    [event] = events_of(consultation)
    assert (event.kind, event.actor, event.created_at) == (Event.Kind.IMPORTANT_SET, actor, AT)
    assert event.data["important"] is True


@pytest.mark.parametrize("status", ALL_STATES)
def test_the_important_mark_can_be_removed(agent, make_consultation, status):
    consultation = _in(make_consultation, status, agent, is_important=True)

    lifecycle.do_set_important(consultation, actor=agent, important=False)

    consultation.refresh_from_db()
    assert consultation.is_important is False
    [event] = events_of(consultation)
    assert event.data["important"] is False


@pytest.mark.parametrize("value", [True, False])
def test_setting_important_to_its_value_writes_no_event(agent, make_consultation, value):
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent, is_important=value)

    lifecycle.do_set_important(consultation, actor=agent, important=value)

    consultation.refresh_from_db()
    assert consultation.is_important is value
    assert events_of(consultation) == []


def test_marking_important_twice_writes_one_event(agent, make_consultation):
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent)

    lifecycle.do_set_important(consultation, actor=agent, important=True)
    lifecycle.do_set_important(consultation, actor=agent, important=True)

    assert len(events_of(consultation, Event.Kind.IMPORTANT_SET)) == 1


def test_an_inactive_member_cannot_mark_important(agent, make_consultation):
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent)
    agent.is_active = False
    agent.save()

    with refused("inactive_member", "Your membership in this center is not active."):
        lifecycle.do_set_important(consultation, actor=agent, important=True)

    consultation.refresh_from_db()
    assert consultation.is_important is False


# --- on hold ---------------------------------------------------------------------------------


def test_the_assignee_puts_a_consultation_in_progress_on_hold(agent, make_consultation):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)

    with clock.frozen_at(AT):
        returned = lifecycle.do_set_hold(consultation, actor=agent, on_hold=True)

    assert returned == consultation
    consultation.refresh_from_db()
    assert consultation.is_on_hold is True
    assert consultation.status == Status.IN_PROGRESS
    [event] = events_of(consultation)
    assert (event.kind, event.actor, event.created_at) == (Event.Kind.HOLD_SET, agent, AT)
    assert event.data["on_hold"] is True


def test_the_assignee_releases_the_hold(agent, make_consultation):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent, is_on_hold=True)

    lifecycle.do_set_hold(consultation, actor=agent, on_hold=False)

    consultation.refresh_from_db()
    assert consultation.is_on_hold is False
    [event] = events_of(consultation)
    assert (event.kind, event.data["on_hold"]) == (Event.Kind.HOLD_SET, False)


@pytest.mark.parametrize("admin", ["manager", "master"])
@pytest.mark.parametrize("on_hold", [True, False])
def test_an_admin_sets_and_releases_the_hold_on_any_consultation(request, agent, make_consultation, admin, on_hold):
    actor = request.getfixturevalue(admin)
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent, is_on_hold=not on_hold)

    lifecycle.do_set_hold(consultation, actor=actor, on_hold=on_hold)

    consultation.refresh_from_db()
    assert consultation.is_on_hold is on_hold
    [event] = events_of(consultation)
    assert event.actor == actor


@pytest.mark.parametrize("on_hold", [True, False])
def test_another_agent_cannot_set_the_hold(agent, agent2, make_consultation, on_hold):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent, is_on_hold=not on_hold)

    with refused("not_assignee", "Only the assignee, a master or a manager can do this."):
        lifecycle.do_set_hold(consultation, actor=agent2, on_hold=on_hold)

    consultation.refresh_from_db()
    assert consultation.is_on_hold is not on_hold


def test_a_waiting_consultation_cannot_be_held(agent, make_consultation):
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent)

    with refused("hold_not_in_progress", "Hold can be set only while the consultation is in progress."):
        lifecycle.do_set_hold(consultation, actor=agent, on_hold=True)

    consultation.refresh_from_db()
    assert consultation.is_on_hold is False


@pytest.mark.parametrize("status", [Status.UNASSIGNED, Status.WAITING])
def test_an_admin_cannot_hold_a_consultation_not_in_progress(agent, manager, make_consultation, status):
    consultation = _in(make_consultation, status, agent)

    with refused("hold_not_in_progress", "Hold can be set only while the consultation is in progress."):
        lifecycle.do_set_hold(consultation, actor=manager, on_hold=True)


@pytest.mark.parametrize("actor", ["agent", "manager"])
def test_a_closed_consultation_cannot_be_held(request, agent, make_consultation, actor):
    consultation = consultation_in(make_consultation, Status.CLOSED, assignee=agent)

    with refused("closed", "This consultation is already closed."):
        lifecycle.do_set_hold(consultation, actor=request.getfixturevalue(actor), on_hold=True)


@pytest.mark.parametrize("value", [True, False])
def test_setting_hold_to_its_value_writes_no_event(agent, make_consultation, value):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent, is_on_hold=value)

    lifecycle.do_set_hold(consultation, actor=agent, on_hold=value)

    consultation.refresh_from_db()
    assert consultation.is_on_hold is value
    assert events_of(consultation) == []


def test_the_flags_are_independent(agent, make_consultation):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)

    lifecycle.do_set_important(consultation, actor=agent, important=True)
    lifecycle.do_set_hold(consultation, actor=agent, on_hold=True)
    lifecycle.do_set_important(consultation, actor=agent, important=False)

    consultation.refresh_from_db()
    assert (consultation.is_important, consultation.is_on_hold) == (False, True)


def test_flags_are_not_messages_to_the_customer(agent, make_consultation):
    # R10: internal only; nothing is said to the customer.
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)

    lifecycle.do_set_important(consultation, actor=agent, important=True)
    lifecycle.do_set_hold(consultation, actor=agent, on_hold=True)

    assert not consultation.messages.exists()
