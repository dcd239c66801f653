"""The transition table (lifecycle.TRANSITIONS): one answer for the actions and for the console's controls.

`lifecycle.allowed(consultation, member, action)` is what the console asks
before it offers a control; the `do_*` functions ask the same table under
lock. These tests hold the two to one answer in every state, for the assignee,
another agent and a manager.
"""

import pytest
from django.utils import translation

from consultations import lifecycle
from consultations.lifecycle import TRANSITIONS, Action, Refused
from consultations.models import Consultation, Status
from counsel_center.models import Member

from .helpers import consultation_in, db_state

pytestmark = pytest.mark.django_db


def _act(action: Action, consultation: Consultation, actor: Member, *, other: Member) -> None:
    """Take `action` through its lifecycle function; `other` is the member a change of assignee hands it to."""
    if action == Action.ASSIGN_TO_ME:
        lifecycle.do_assign_to_me(consultation, actor=actor)
    elif action == Action.CHANGE_ASSIGNEE:
        lifecycle.do_change_assignee(consultation, actor=actor, assignee=other)
    elif action == Action.SEND:
        lifecycle.do_send_message(consultation, actor=actor, text="안녕하세요")
    elif action == Action.HOLD:
        lifecycle.do_set_hold(consultation, actor=actor, on_hold=True)
    elif action == Action.IMPORTANT:
        lifecycle.do_set_important(consultation, actor=actor, important=True)
    elif action == Action.CLOSE:
        lifecycle.do_close(consultation, actor=actor)
    else:  # pragma: no cover - a new action needs its line here
        raise AssertionError(action)


def _code(refusal: Refused | None) -> tuple[str, str] | None:
    if refusal is None:
        return None
    with translation.override("en"):
        return refusal.code, str(refusal.message)


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("who", ["agent", "agent2", "manager"])
def test_allowed_answers_what_the_action_does(request, agent, master, make_consultation, action, status, who):
    # Alice (agent) is the assignee of every assigned consultation; Bob (agent2) is another agent.
    consultation = consultation_in(make_consultation, status, assignee=None if status == Status.UNASSIGNED else agent)
    actor = request.getfixturevalue(who)

    answer = lifecycle.allowed(consultation, actor, action)
    try:
        _act(action, consultation, actor, other=master)
    except Refused as refusal:
        done = refusal
    else:
        done = None

    assert _code(answer) == _code(done)


def test_every_action_has_a_cell_for_every_state():
    for action in Action:
        assert set(TRANSITIONS[action]) == set(Status.values), action


def test_what_the_assignee_may_do_in_each_state(agent, make_consultation):
    expected = {
        Status.WAITING: {
            Action.ASSIGN_TO_ME: "already_assigned",
            Action.CHANGE_ASSIGNEE: None,
            Action.SEND: None,
            Action.HOLD: "hold_not_in_progress",
            Action.IMPORTANT: None,
            Action.CLOSE: None,
        },
        Status.IN_PROGRESS: {
            Action.ASSIGN_TO_ME: "already_assigned",
            Action.CHANGE_ASSIGNEE: None,
            Action.SEND: None,
            Action.HOLD: None,
            Action.IMPORTANT: None,
            Action.CLOSE: None,
        },
        Status.CLOSED: {
            Action.ASSIGN_TO_ME: "closed",
            Action.CHANGE_ASSIGNEE: "closed",
            Action.SEND: "not_sendable",
            Action.HOLD: "closed",
            Action.IMPORTANT: None,
            Action.CLOSE: "closed",
        },
    }
    for status, answers in expected.items():
        consultation = consultation_in(make_consultation, status, assignee=agent)
        got = {action: getattr(lifecycle.allowed(consultation, agent, action), "code", None) for action in Action}
        assert got == answers, status


def test_an_agent_may_only_take_an_unassigned_one(agent, manager, make_consultation):
    consultation = consultation_in(make_consultation, Status.UNASSIGNED)

    agent_may = {action: getattr(lifecycle.allowed(consultation, agent, action), "code", None) for action in Action}
    manager_may = {action: getattr(lifecycle.allowed(consultation, manager, action), "code", None) for action in Action}

    assert agent_may == {
        Action.ASSIGN_TO_ME: None,
        Action.CHANGE_ASSIGNEE: "not_admin",
        Action.SEND: "not_sendable",
        Action.HOLD: "hold_not_in_progress",
        Action.IMPORTANT: None,
        Action.CLOSE: "not_assignee",
    }
    assert manager_may == {**agent_may, Action.CHANGE_ASSIGNEE: None, Action.CLOSE: None}


def test_the_state_is_explained_before_who_may_act(agent, agent2, make_consultation):
    # Another agent's waiting consultation: holding it waits for 상담 중 whoever asks.
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent)

    assert lifecycle.allowed(consultation, agent2, Action.HOLD).code == "hold_not_in_progress"
    assert lifecycle.allowed(consultation, agent2, Action.CLOSE).code == "not_assignee"


def test_sending_explains_the_hold_then_the_stopped_center(center, agent, make_consultation):
    center.is_operating = False
    center.save()
    held = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent, is_on_hold=True)
    started = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)

    assert lifecycle.allowed(held, agent, Action.SEND).code == "on_hold"
    assert lifecycle.allowed(started, agent, Action.SEND).code == "center_stopped"
    assert lifecycle.allowed(started, agent, Action.CLOSE) is None  # a stopped center only stops sending


def test_another_centers_member_is_told_it_was_not_found(agent, outsider, make_consultation):
    consultation = consultation_in(make_consultation, Status.IN_PROGRESS, assignee=agent)

    for action in Action:
        assert _code(lifecycle.allowed(consultation, outsider, action)) == (
            "not_found",
            "The consultation was not found.",
        )


def test_allowed_reads_only_what_is_in_hand_and_writes_nothing(
    agent, agent2, make_consultation, django_assert_num_queries
):
    ids = [
        consultation_in(make_consultation, status, assignee=agent2).pk for status in Status if status != "unassigned"
    ]
    consultations = list(Consultation.objects.select_related("center", "assignee__user").filter(pk__in=ids))
    member = Member.objects.select_related("user").get(pk=agent.pk)
    before = db_state()

    with django_assert_num_queries(0):
        answers = [lifecycle.allowed(c, member, action) for c in consultations for action in Action]

    assert any(answer is None for answer in answers) and any(answer is not None for answer in answers)
    assert db_state() == before


def test_the_console_helpers_read_the_same_table(agent, agent2, make_consultation):
    consultation = consultation_in(make_consultation, Status.WAITING, assignee=agent2)

    assert _code(lifecycle.send_refusal(consultation, agent)) == _code(
        lifecycle.allowed(consultation, agent, Action.SEND)
    )
