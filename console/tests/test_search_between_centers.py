"""A search's rows and counts in one center never depend on another center's data (issue 17).

The list's search reads a bounded number of the newest matches
(console/search.py `newest_matches`); which ones are decided by the
searching member's center alone, so another center full of newer matching
messages and customers changes neither the rows found nor the counts, nor
whether they are shown as exact or as "more than". Run on SQLite and on
PostgreSQL (DATABASE_URL=postgres://…).
"""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from console import search
from consultations.models import Status
from consultations.tests.factories import ConsultationFactory, MessageFactory
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

LIST = reverse("console")
TABS = {"mine": ("waiting", "in_progress", "closed"), "all": ("unassigned", "waiting", "in_progress", "closed")}


def what_the_list_shows(client, term: str) -> dict:
    """Every scope and tab's rows, in order, and the count of every tab."""
    shown = {}
    for scope, tabs in TABS.items():
        for tab in tabs:
            html = client.get(LIST, {"scope": scope, "tab": tab, "q": term}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
            rows = re.findall(r'data-consultation="(\w+)"', html)
            counts = re.findall(r'<span class="count" data-count="(\w+)"(?: title="([^"]*)")?>([^<]*)<', html)
            shown[scope, tab] = (rows, counts)
    return shown


def fill_with_matches(center, assignee, *, times: int, now) -> None:
    """`times` consultations of `center` in every state, newer than anything else, with the term in their
    messages and in their customers' nickname and profile name."""
    states = [Status.UNASSIGNED, Status.WAITING, Status.IN_PROGRESS, Status.CLOSED]
    for i in range(times):
        status = states[i % 4]
        customer = CustomerFactory(center=center, nickname=f"환불 단골 {i}", profile_nickname=f"환불{i}")
        consultation = ConsultationFactory(
            center=center,
            customer=customer,
            status=status,
            assignee=None if status == Status.UNASSIGNED else assignee,
            closed_at=now if status == Status.CLOSED else None,
            last_activity_at=now + timedelta(minutes=i),
        )
        MessageFactory(consultation=consultation, text="환불 해주세요", created_at=now + timedelta(minutes=i))
        MessageFactory(consultation=consultation, text="환불 언제 되나요", created_at=now + timedelta(minutes=i))


@pytest.mark.parametrize("matches_in_alpha", [3, 7], ids=["all found", "more than the search reads"])
def test_a_search_shows_the_same_rows_and_counts_whatever_another_center_holds(
    alice_client, center, other_center, agent, outsider, monkeypatch, matches_in_alpha
):
    monkeypatch.setattr(search, "SEARCH_MATCHES", 5)
    now = timezone.now()
    states = [(Status.UNASSIGNED, None), (Status.WAITING, agent), (Status.IN_PROGRESS, agent), (Status.CLOSED, agent)]
    for i in range(matches_in_alpha):
        status, assignee = states[i % 4]
        consultation = ConsultationFactory(
            center=center,
            status=status,
            assignee=assignee,
            closed_at=now if status == Status.CLOSED else None,
            last_activity_at=now - timedelta(hours=1, minutes=i),
        )
        MessageFactory(consultation=consultation, text="환불 문의", created_at=now - timedelta(hours=1, minutes=i))
    by_name = ConsultationFactory(center=center, customer=CustomerFactory(center=center, nickname="환불왕"))
    MessageFactory(consultation=by_name, text="안녕하세요")
    before = what_the_list_shows(alice_client, "환불")
    assert before["all", "unassigned"][0], "the search finds something in center alpha"

    fill_with_matches(other_center, outsider, times=40, now=now)  # 8 times what a search reads, all newer

    assert what_the_list_shows(alice_client, "환불") == before
