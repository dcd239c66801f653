"""R11: limits and single-winner transitions hold under real parallel requests.

Each call runs in its own thread, hence its own database connection, released
together by a barrier. On PostgreSQL the row locks serialise them; on SQLite
(a file database, WAL, IMMEDIATE transactions) the database write lock does.
"""

from collections import Counter

import pytest

from consultations import lifecycle
from consultations.models import Consultation, Event, Status
from customers.models import Customer

from .helpers import run_in_parallel

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]


def refusal_codes(results: list[object]) -> Counter:
    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, lifecycle.Refused)]
    assert not unexpected, f"unexpected errors: {unexpected!r}"
    return Counter(r.code for r in results if isinstance(r, lifecycle.Refused))


def test_twenty_parallel_assign_to_me_on_ten_consultations_assign_exactly_five(agent, make_consultation):
    consultations = [make_consultation() for _ in range(10)]

    results = run_in_parallel(
        [lambda c=consultations[i % 10]: lifecycle.do_assign_to_me(c, actor=agent) for i in range(20)]
    )

    successes = [r for r in results if isinstance(r, Consultation)]
    assert len(successes) == 5
    assert Consultation.objects.filter(assignee=agent, status=Status.WAITING).count() == 5
    assert Consultation.objects.filter(status=Status.UNASSIGNED).count() == 5
    codes = refusal_codes(results)
    assert sum(codes.values()) == 15
    assert set(codes) <= {"waiting_limit", "already_assigned"}
    assert Event.objects.filter(kind=Event.Kind.ASSIGNED).count() == 5


def test_two_members_racing_for_one_consultation_give_one_success(agent, agent2, make_consultation):
    consultation = make_consultation()

    results = run_in_parallel(
        [
            lambda: lifecycle.do_assign_to_me(consultation, actor=agent),
            lambda: lifecycle.do_assign_to_me(consultation, actor=agent2),
        ]
    )

    winners = [r for r in results if isinstance(r, Consultation)]
    assert len(winners) == 1
    assert refusal_codes(results) == Counter({"already_assigned": 1})
    consultation.refresh_from_db()
    assert consultation.status == Status.WAITING
    assert consultation.assignee_id == winners[0].assignee_id
    assert Event.objects.filter(consultation=consultation, kind=Event.Kind.ASSIGNED).count() == 1


def test_parallel_first_messages_never_exceed_the_concurrent_limit(center, agent, make_consultation):
    assert center.concurrent_limit == 3
    waiting = [make_consultation(status=Status.WAITING, assignee=agent) for _ in range(5)]

    results = run_in_parallel(
        [lambda c=c: lifecycle.do_send_message(c, actor=agent, text="안녕하세요, 상담원입니다.") for c in waiting]
    )

    assert Consultation.objects.filter(assignee=agent, status=Status.IN_PROGRESS).count() == 3
    assert Consultation.objects.filter(assignee=agent, status=Status.WAITING).count() == 2
    assert refusal_codes(results) == Counter({"concurrent_limit": 2})


def test_parallel_handovers_to_one_member_respect_the_waiting_limit(agent, manager, make_consultation):
    for _ in range(3):
        make_consultation(status=Status.WAITING, assignee=agent)
    unassigned = [make_consultation() for _ in range(6)]

    results = run_in_parallel(
        [lambda c=c: lifecycle.do_change_assignee(c, actor=manager, assignee=agent) for c in unassigned]
    )

    assert Consultation.objects.filter(assignee=agent, status=Status.WAITING).count() == 5
    assert refusal_codes(results) == Counter({"waiting_limit": 4})


def test_parallel_first_messages_of_a_new_customer_open_one_consultation(center):
    results = run_in_parallel(
        [
            lambda i=i: lifecycle.do_receive_customer_message(center, user_key="new-kakao-user", text=f"문의 {i}")
            for i in range(8)
        ]
    )

    assert refusal_codes(results) == Counter()
    assert Customer.objects.filter(center=center, user_key="new-kakao-user").count() == 1
    consultation = Consultation.objects.get(customer__user_key="new-kakao-user")
    assert consultation.status == Status.UNASSIGNED
    assert consultation.messages.count() == 8
    assert Event.objects.filter(kind=Event.Kind.CREATED).count() == 1
