"""Consultations in the admin: a scoped, read-only view (R2); state changes only in lifecycle.

Covers consultations/admin.py (ConsultationAdmin, EventAdmin).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from consultations import lifecycle
from consultations.models import CloseReason, Consultation, Event, Status
from consultations.tests.factories import ConsultationFactory
from customers.tests.factories import CustomerFactory

CHANGELIST = "admin:consultations_consultation_changelist"


def _change_url(consultation):
    return reverse("admin:consultations_consultation_change", args=[consultation.pk])


@pytest.fixture
def worked(center, customer, agent, manager):
    """A consultation that went through lifecycle: opened, assigned, answered, closed."""
    received = lifecycle.do_receive_customer_message(center, user_key=customer.user_key, text="배송이 안 와요")
    consultation = lifecycle.do_assign_to_me(received.consultation, actor=agent)
    lifecycle.do_send_message(consultation, actor=agent, text="확인해 드릴게요")
    return lifecycle.do_close(consultation, actor=manager)


def test_it_lists_the_centers_consultations(client, manager, worked, make_consultation, other_center):
    waiting = make_consultation(status=Status.UNASSIGNED, is_important=True)
    beta = ConsultationFactory(center=other_center)
    client.force_login(manager.user)
    html = client.get(reverse(CHANGELIST)).content.decode()
    assert worked.public_id in html
    assert waiting.public_id in html
    assert beta.public_id not in html
    assert "김민지" in html  # the customer's name
    assert "Alice" in html  # the assignee


def test_it_filters_and_searches(client, manager, worked, make_consultation, agent2):
    other = make_consultation(status=Status.WAITING, assignee=agent2)
    client.force_login(manager.user)

    html = client.get(reverse(CHANGELIST), {"status__exact": Status.CLOSED}).content.decode()
    assert worked.public_id in html
    assert other.public_id not in html

    html = client.get(reverse(CHANGELIST), {"assignee__id__exact": agent2.pk}).content.decode()
    assert other.public_id in html
    assert worked.public_id not in html

    html = client.get(reverse(CHANGELIST), {"close_reason__exact": CloseReason.AGENT}).content.decode()
    assert worked.public_id in html
    assert other.public_id not in html

    for term in ("민지", worked.customer.customer_id, worked.public_id):
        html = client.get(reverse(CHANGELIST), {"q": term}).content.decode()
        assert worked.public_id in html, term
        assert other.public_id not in html, term


def test_it_shows_a_consultation_view_only(client, manager, worked):
    client.force_login(manager.user)
    response = client.get(_change_url(worked))
    assert response.status_code == 200
    html = response.content.decode()
    assert worked.public_id in html
    assert 'name="_save"' not in html
    assert 'name="status"' not in html
    # Messages and the event history, read-only.
    assert "배송이 안 와요" in html
    assert "확인해 드릴게요" in html
    with translation.override("ko"):  # the page's language
        assert str(Event.Kind.ASSIGNED.label) in html
        assert str(Event.Kind.CLOSED.label) in html
    assert 'name="messages-0-text"' not in html


def test_it_refuses_every_write_even_to_a_superuser(client, admin_client, manager, worked, center, customer):
    client.force_login(manager.user)
    for c in (client, admin_client):
        assert c.post(_change_url(worked), {"status": Status.WAITING, "is_important": "on"}).status_code == 403
        assert c.get(reverse("admin:consultations_consultation_add")).status_code == 403
        delete = reverse("admin:consultations_consultation_delete", args=[worked.pk])
        assert c.post(delete, {"post": "yes"}).status_code == 403
    worked.refresh_from_db()
    assert (worked.status, worked.is_important) == (Status.CLOSED, False)
    assert Consultation.objects.count() == 1
    event = Event.objects.filter(consultation=worked).first()
    assert client.post(reverse("admin:consultations_event_delete", args=[event.pk]), {"post": "yes"}).status_code == 403


def test_it_lists_events_of_the_center_only(client, manager, worked, other_center):
    beta = lifecycle.do_receive_customer_message(other_center, user_key="beta-key", text="hello").consultation
    client.force_login(manager.user)
    html = client.get(reverse("admin:consultations_event_changelist")).content.decode()
    assert worked.public_id in html
    assert beta.public_id not in html
    event = Event.objects.filter(consultation=worked, kind=Event.Kind.CLOSED).get()
    response = client.get(reverse("admin:consultations_event_change", args=[event.pk]))
    assert response.status_code == 200
    assert 'name="kind"' not in response.content.decode()


@pytest.mark.parametrize("rows", [5, 30])
def test_it_lists_consultations_in_a_bounded_number_of_queries(
    client, manager, center, agent, agent2, rows, django_assert_max_num_queries
):
    for n in range(rows):
        assignee = (None, agent, agent2)[n % 3]
        ConsultationFactory(
            center=center,
            customer=CustomerFactory(center=center),
            status=Status.WAITING if assignee else Status.UNASSIGNED,
            assignee=assignee,
        )
    client.force_login(manager.user)
    # session, user, memberships, assignee filter choices, COUNT, the user's and groups' Django permissions
    # (the nav sidebar asks about the auth app), the page of consultations with customer and assignee joined.
    with django_assert_max_num_queries(8):
        response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200


def test_it_does_not_grow_queries_with_rows(client, manager, center, agent, agent2):
    def page_queries():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse(CHANGELIST)).status_code == 200
        return len(queries)

    def add(count):
        for n in range(count):
            assignee = (agent, agent2)[n % 2]
            ConsultationFactory(
                center=center, customer=CustomerFactory(center=center), status=Status.WAITING, assignee=assignee
            )

    client.force_login(manager.user)
    add(5)
    five = page_queries()
    add(25)
    assert page_queries() == five
