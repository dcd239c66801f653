"""R6 change assignee (담당자 변경), with the new assignee's limits (R5, R7)."""

from datetime import timedelta

import pytest

from consultations import lifecycle
from consultations.models import Event, Status
from counsel_center import clock

from .helpers import T0, consultation_in, events_of, fill, refused

pytestmark = pytest.mark.django_db

AT = T0 + timedelta(minutes=5)


# --- an agent ------------------------------------------------------------------------


@pytest.mark.parametrize("status", [Status.WAITING, Status.IN_PROGRESS])
def test_an_agent_hands_over_their_own_consultation_and_its_state_is_kept(agent, agent2, make_consultation, status):
    consultation = consultation_in(make_consultation, status, assignee=agent)
    first_response_at = consultation.first_response_at

    with clock.frozen_at(AT):
        returned = lifecycle.do_change_assignee(consultation, actor=agent, assignee=agent2)

    assert returned == consultation
    consultation.refresh_from_db()
    assert consultation.status == status
    assert consultation.assignee == agent2
    assert consultation.assigned_at == AT
    assert consultation.first_response_at == first_response_at
    [event] = events_of(consultation)
    assert event.kind == Event.Kind.ASSIGNEE_CHANGED
    assert event.actor == agent
    assert event.created_at == AT
    assert event.data["old_status"] == status
    assert event.data["new_status"] == status
    assert event.data["old_assignee_id"] == agent.pk
    assert event.data["assignee_id"] == agent2.pk


def test_it_keeps_the_flags(agent, agent2, make_consultation):
    consultation = consultation_in(
        make_consultation, Status.IN_PROGRESS, assignee=agent, is_important=True, is_on_hold=True
    )

    lifecycle.do_change_assignee(consultation, actor=agent, assignee=agent2)

    consultation.refresh_from_db()
    assert (consultation.is_important, consultation.is_on_hold) == (True, True)


@pytest.mark.parametrize("status", [Status.WAITING, Status.IN_PROGRESS])
def test_an_agent_cannot_hand_over_a_consultation_not_theirs(agent, agent2, manager, make_consultation, status):
    consultation = consultation_in(make_consultation, status, assignee=agent2)

    with refused("not_assignee", "Agents can change the assignee only of consultations assigned to them."):
        lifecycle.do_change_assignee(consultation, actor=agent, assignee=manager)

    consultation.refresh_from_db()
    assert (consultation.status, consultation.assignee) == (status, agent2)


def test_an_agent_cannot_take_a_consultation_of_another_agent(agent, agent2, make_consultation):
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent2)

    with refused("not_assignee", "Agents can change the assignee only of consultations assigned to them."):
        lifecycle.do_change_assignee(consultation, actor=agent, assignee=agent)


@pytest.mark.parametrize("assignee", ["agent", "agent2"])
def test_an_agent_cannot_assign_an_unassigned_consultation(request, agent, make_consultation, assignee):
    consultation = consultation_in(make_consultation, Status.UNASSIGNED)

    with refused("not_admin", "Only masters and managers can assign an unassigned consultation to someone else."):
        lifecycle.do_change_assignee(consultation, actor=agent, assignee=request.getfixturevalue(assignee))

    consultation.refresh_from_db()
    assert (consultation.status, consultation.assignee) == (Status.UNASSIGNED, None)


# --- masters and managers ---------------------------------------------------------------


@pytest.mark.parametrize("admin", ["manager", "master"])
@pytest.mark.parametrize("status", [Status.WAITING, Status.IN_PROGRESS])
def test_an_admin_hands_over_any_consultation(request, agent, agent2, make_consultation, admin, status):
    actor = request.getfixturevalue(admin)
    consultation = consultation_in(make_consultation, status, assignee=agent)

    lifecycle.do_change_assignee(consultation, actor=actor, assignee=agent2)

    consultation.refresh_from_db()
    assert (consultation.status, consultation.assignee) == (status, agent2)
    [event] = events_of(consultation)
    assert event.actor == actor


@pytest.mark.parametrize("admin", ["manager", "master"])
def test_an_admin_assigns_an_unassigned_consultation_which_then_waits(request, agent, make_consultation, admin):
    actor = request.getfixturevalue(admin)
    consultation = consultation_in(make_consultation, Status.UNASSIGNED)

    with clock.frozen_at(AT):
        lifecycle.do_change_assignee(consultation, actor=actor, assignee=agent)

    consultation.refresh_from_db()
    assert consultation.status == Status.WAITING
    assert consultation.assignee == agent
    assert consultation.assigned_at == AT
    [event] = events_of(consultation)
    assert event.kind == Event.Kind.ASSIGNED
    assert event.actor == actor
    assert event.data["old_status"] == Status.UNASSIGNED
    assert event.data["new_status"] == Status.WAITING
    assert event.data["old_assignee_id"] is None
    assert event.data["assignee_id"] == agent.pk


def test_an_admin_may_assign_an_unassigned_consultation_to_themselves(manager, make_consultation):
    consultation = consultation_in(make_consultation, Status.UNASSIGNED)

    lifecycle.do_change_assignee(consultation, actor=manager, assignee=manager)

    consultation.refresh_from_db()
    assert (consultation.status, consultation.assignee) == (Status.WAITING, manager)


def test_an_admin_may_take_over_a_consultation(agent, manager, make_consultation):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)

    lifecycle.do_change_assignee(consultation, actor=manager, assignee=manager)

    consultation.refresh_from_db()
    assert (consultation.status, consultation.assignee) == (Status.IN_PROGRESS, manager)


# --- refusals about the new assignee ---------------------------------------------------------


def test_the_same_assignee_is_refused(agent, agent2, manager, make_consultation):
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent2)

    with refused("same_assignee", "This consultation is already assigned to Bob."):
        lifecycle.do_change_assignee(consultation, actor=manager, assignee=agent2)


def test_an_agent_handing_to_themselves_is_the_same_assignee(agent, make_consultation):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)

    with refused("same_assignee", "This consultation is already assigned to Alice."):
        lifecycle.do_change_assignee(consultation, actor=agent, assignee=agent)


@pytest.mark.parametrize("status", [Status.UNASSIGNED, Status.WAITING])
def test_a_member_of_another_center_is_refused_as_assignee(agent, manager, outsider, make_consultation, status):
    consultation = consultation_in(make_consultation, status, assignee=None if status == Status.UNASSIGNED else agent)

    with refused("bad_assignee", "Oscar is not an active member of this center."):
        lifecycle.do_change_assignee(consultation, actor=manager, assignee=outsider)

    consultation.refresh_from_db()
    assert consultation.assignee == (None if status == Status.UNASSIGNED else agent)


def test_an_inactive_member_is_refused_as_assignee(agent, agent2, make_consultation):
    agent2.is_active = False
    agent2.save()
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent)

    with refused("bad_assignee", "Bob is not an active member of this center."):
        lifecycle.do_change_assignee(consultation, actor=agent, assignee=agent2)


def test_a_member_whose_user_is_deactivated_is_refused_as_assignee(agent, agent2, make_consultation):
    agent2.user.is_active = False
    agent2.user.save()
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent)

    with refused("bad_assignee", "Bob is not an active member of this center."):
        lifecycle.do_change_assignee(consultation, actor=agent, assignee=agent2)


def test_a_closed_consultation_is_refused(agent, agent2, manager, make_consultation):
    consultation = consultation_in(make_consultation, Status.CLOSED, assignee=agent)

    with refused("closed", "This consultation is already closed."):
        lifecycle.do_change_assignee(consultation, actor=manager, assignee=agent2)

    consultation.refresh_from_db()
    assert consultation.assignee == agent


# --- the new assignee's limits -------------------------------------------------------------------


def test_r5_refuses_a_waiting_consultation_to_a_member_with_five_waiting(agent, agent2, make_consultation):
    fill(make_consultation, agent2, Status.WAITING, 5)
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent)

    with refused("waiting_limit", "Bob already has 5 waiting consultations, the most one member can hold."):
        lifecycle.do_change_assignee(consultation, actor=agent, assignee=agent2)

    consultation.refresh_from_db()
    assert consultation.assignee == agent


def test_r5_refuses_an_admin_assigning_the_sixth_waiting(agent2, manager, make_consultation):
    fill(make_consultation, agent2, Status.WAITING, 5)
    consultation = consultation_in(make_consultation, Status.UNASSIGNED)

    with refused("waiting_limit", "Bob already has 5 waiting consultations, the most one member can hold."):
        lifecycle.do_change_assignee(consultation, actor=manager, assignee=agent2)

    consultation.refresh_from_db()
    assert (consultation.status, consultation.assignee) == (Status.UNASSIGNED, None)


def test_r5_allows_the_fifth_waiting(agent, agent2, make_consultation):
    fill(make_consultation, agent2, Status.WAITING, 4)
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent)

    lifecycle.do_change_assignee(consultation, actor=agent, assignee=agent2)

    consultation.refresh_from_db()
    assert consultation.assignee == agent2


def test_r5_does_not_apply_to_a_consultation_in_progress(agent, agent2, make_consultation):
    fill(make_consultation, agent2, Status.WAITING, 5)
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)

    lifecycle.do_change_assignee(consultation, actor=agent, assignee=agent2)

    consultation.refresh_from_db()
    assert (consultation.status, consultation.assignee) == (Status.IN_PROGRESS, agent2)


def test_r7_refuses_a_consultation_in_progress_to_a_member_at_the_concurrent_limit(agent, agent2, make_consultation):
    fill(make_consultation, agent2, Status.IN_PROGRESS, 3)
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)

    with refused("concurrent_limit", "Bob already has 3 consultations in progress, the center's concurrent limit."):
        lifecycle.do_change_assignee(consultation, actor=agent, assignee=agent2)

    consultation.refresh_from_db()
    assert (consultation.status, consultation.assignee) == (Status.IN_PROGRESS, agent)


def test_r7_uses_the_centers_own_concurrent_limit(center, agent, agent2, make_consultation):
    center.concurrent_limit = 1
    center.save()
    fill(make_consultation, agent2, Status.IN_PROGRESS, 1)
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)

    with refused("concurrent_limit", "Bob already has 1 consultation in progress, the center's concurrent limit."):
        lifecycle.do_change_assignee(consultation, actor=agent, assignee=agent2)


def test_r7_allows_below_the_concurrent_limit(agent, agent2, make_consultation):
    fill(make_consultation, agent2, Status.IN_PROGRESS, 2)
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)

    lifecycle.do_change_assignee(consultation, actor=agent, assignee=agent2)

    consultation.refresh_from_db()
    assert consultation.assignee == agent2


def test_r7_does_not_apply_to_a_waiting_consultation(agent, agent2, make_consultation):
    fill(make_consultation, agent2, Status.IN_PROGRESS, 3)
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent)

    lifecycle.do_change_assignee(consultation, actor=agent, assignee=agent2)

    consultation.refresh_from_db()
    assert (consultation.status, consultation.assignee) == (Status.WAITING, agent2)


def test_the_previous_assignee_gets_the_place_back(agent, agent2, make_consultation):
    waiting = fill(make_consultation, agent, Status.WAITING, 5)
    unassigned = consultation_in(make_consultation, Status.UNASSIGNED)

    lifecycle.do_change_assignee(waiting[0], actor=agent, assignee=agent2)
    lifecycle.do_assign_to_me(unassigned, actor=agent)

    unassigned.refresh_from_db()
    assert unassigned.assignee == agent
