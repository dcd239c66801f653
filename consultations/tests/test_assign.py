"""R4 assign to me (나에게 할당), and R5: at most 5 waiting consultations per member."""

from datetime import timedelta

import pytest

from consultations import lifecycle
from consultations.models import Event, Status
from counsel_center import clock
from counsel_center.models import MAX_WAITING_PER_MEMBER

from .helpers import T0, consultation_in, events_of, fill, refused

pytestmark = pytest.mark.django_db

WAITING_LIMIT_ALICE = "Alice already has 5 waiting consultations, the most one member can hold."


def test_it_assigns_an_unassigned_consultation_to_me(agent, make_consultation):
    consultation = consultation_in(make_consultation, Status.UNASSIGNED)
    at = T0 + timedelta(minutes=2)

    with clock.frozen_at(at):
        returned = lifecycle.do_assign_to_me(consultation, actor=agent)

    assert returned == consultation
    consultation.refresh_from_db()
    assert consultation.status == Status.WAITING
    assert consultation.assignee == agent
    assert consultation.assigned_at == at
    assert consultation.first_response_at is None
    [event] = events_of(consultation)
    assert event.kind == Event.Kind.ASSIGNED
    assert event.actor == agent


def test_it_accepts_a_consultation_id(agent, make_consultation):
    consultation = consultation_in(make_consultation, Status.UNASSIGNED)

    lifecycle.do_assign_to_me(consultation.pk, actor=agent)

    consultation.refresh_from_db()
    assert (consultation.status, consultation.assignee) == (Status.WAITING, agent)


@pytest.mark.parametrize("who", ["agent", "manager", "master"])
def test_every_role_may_assign_to_themselves(request, make_consultation, who):
    member = request.getfixturevalue(who)
    consultation = consultation_in(make_consultation, Status.UNASSIGNED)

    lifecycle.do_assign_to_me(consultation, actor=member)

    consultation.refresh_from_db()
    assert consultation.assignee == member


@pytest.mark.parametrize("status", [Status.WAITING, Status.IN_PROGRESS])
def test_an_assigned_consultation_is_refused(agent, agent2, make_consultation, status):
    consultation = consultation_in(make_consultation, status, assignee=agent2)

    with refused("already_assigned", "This consultation is already assigned to Bob."):
        lifecycle.do_assign_to_me(consultation, actor=agent)

    consultation.refresh_from_db()
    assert (consultation.status, consultation.assignee) == (status, agent2)


def test_my_own_waiting_consultation_is_refused_too(agent, make_consultation):
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent)

    with refused("already_assigned", "This consultation is already assigned to Alice."):
        lifecycle.do_assign_to_me(consultation, actor=agent)


def test_a_closed_consultation_is_refused(agent, agent2, make_consultation):
    consultation = consultation_in(make_consultation, Status.CLOSED, assignee=agent2)

    with refused("closed", "This consultation is already closed."):
        lifecycle.do_assign_to_me(consultation, actor=agent)


def test_an_inactive_member_is_refused(agent, make_consultation):
    agent.is_active = False
    agent.save()
    consultation = consultation_in(make_consultation, Status.UNASSIGNED)

    with refused("inactive_member", "Your membership in this center is not active."):
        lifecycle.do_assign_to_me(consultation, actor=agent)

    consultation.refresh_from_db()
    assert consultation.status == Status.UNASSIGNED


def test_a_member_whose_user_is_deactivated_is_refused(agent, make_consultation):
    agent.user.is_active = False
    agent.user.save()
    consultation = consultation_in(make_consultation, Status.UNASSIGNED)

    with refused("inactive_member", "Your membership in this center is not active."):
        lifecycle.do_assign_to_me(consultation, actor=agent)


# --- R5 -------------------------------------------------------------------------------


def test_the_limit_is_five():
    assert MAX_WAITING_PER_MEMBER == 5


def test_the_fifth_waiting_consultation_is_allowed(agent, make_consultation):
    fill(make_consultation, agent, Status.WAITING, 4)
    consultation = consultation_in(make_consultation, Status.UNASSIGNED)

    lifecycle.do_assign_to_me(consultation, actor=agent)

    consultation.refresh_from_db()
    assert consultation.assignee == agent
    assert agent.assigned_consultations.filter(status=Status.WAITING).count() == 5


def test_the_sixth_waiting_consultation_is_refused(agent, make_consultation):
    fill(make_consultation, agent, Status.WAITING, 5)
    consultation = consultation_in(make_consultation, Status.UNASSIGNED)

    with refused("waiting_limit", WAITING_LIMIT_ALICE):
        lifecycle.do_assign_to_me(consultation, actor=agent)

    consultation.refresh_from_db()
    assert consultation.status == Status.UNASSIGNED
    assert consultation.assignee is None
    assert agent.assigned_consultations.filter(status=Status.WAITING).count() == 5


def test_the_sixth_assignment_through_the_lifecycle_is_refused(agent, make_consultation):
    consultations = [consultation_in(make_consultation, Status.UNASSIGNED) for _ in range(6)]
    for consultation in consultations[:5]:
        lifecycle.do_assign_to_me(consultation, actor=agent)

    with refused("waiting_limit", WAITING_LIMIT_ALICE):
        lifecycle.do_assign_to_me(consultations[5], actor=agent)


def test_the_limit_applies_to_managers_and_masters_too(manager, make_consultation):
    fill(make_consultation, manager, Status.WAITING, 5)
    consultation = consultation_in(make_consultation, Status.UNASSIGNED)

    with refused("waiting_limit", "Mina already has 5 waiting consultations, the most one member can hold."):
        lifecycle.do_assign_to_me(consultation, actor=manager)


def test_only_my_waiting_consultations_count(agent, agent2, make_consultation):
    fill(make_consultation, agent, Status.WAITING, 4)
    fill(make_consultation, agent, Status.IN_PROGRESS, 3)
    fill(make_consultation, agent, Status.CLOSED, 3)
    fill(make_consultation, agent2, Status.WAITING, 5)
    consultation = consultation_in(make_consultation, Status.UNASSIGNED)

    lifecycle.do_assign_to_me(consultation, actor=agent)

    consultation.refresh_from_db()
    assert consultation.assignee == agent


def test_a_waiting_consultation_that_starts_frees_a_place(center, agent, make_consultation):
    waiting = fill(make_consultation, agent, Status.WAITING, 5)
    consultation = consultation_in(make_consultation, Status.UNASSIGNED)

    lifecycle.do_send_message(waiting[0], actor=agent, text="안녕하세요")
    lifecycle.do_assign_to_me(consultation, actor=agent)

    consultation.refresh_from_db()
    assert consultation.assignee == agent


def test_a_waiting_consultation_that_closes_frees_a_place(agent, make_consultation):
    waiting = fill(make_consultation, agent, Status.WAITING, 5)
    consultation = consultation_in(make_consultation, Status.UNASSIGNED)

    lifecycle.do_close(waiting[0], actor=agent)
    lifecycle.do_assign_to_me(consultation, actor=agent)

    consultation.refresh_from_db()
    assert consultation.assignee == agent
