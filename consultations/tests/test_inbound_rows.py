"""inbound_rows: the webhook's plain-SQL reads give the same instances as the ORM, on either database."""

from datetime import datetime

import pytest
from django.db import transaction

from consultations import inbound_rows
from consultations.models import Consultation, Status
from counsel_center.models import Center
from customers.models import Block, Customer

from .helpers import T0


def _fields(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def _assert_same_as_orm(instance, model) -> None:
    expected = _fields(model.objects.get(pk=instance.pk))
    got = _fields(instance)
    assert got == expected
    for name, value in got.items():  # same types too: aware datetimes, not naive ones or strings
        assert type(value) is type(expected[name]), name
        if isinstance(value, datetime):
            assert value.tzinfo is not None, name


@pytest.mark.django_db
def test_the_center_is_read_as_the_orm_reads_it(center):
    found = inbound_rows.center_by_slug(center.slug)
    _assert_same_as_orm(found, Center)
    assert inbound_rows.center_by_slug("no-such-center") is None


@pytest.mark.django_db(transaction=True)
def test_the_locked_customer_and_consultation_are_read_as_the_orm_reads_them(center, customer):
    consultation = Consultation.objects.create(
        center=center, customer=customer, status=Status.UNASSIGNED, requested_at=T0, last_activity_at=T0
    )
    with transaction.atomic():
        locked = inbound_rows.locked_customer(center.pk, customer.user_key)
        _assert_same_as_orm(locked, Customer)
        assert locked.is_blocked_now is False
        opened = inbound_rows.locked_open_consultation(customer.pk)
        assert opened.pk == consultation.pk
        _assert_same_as_orm(opened, Consultation)
        assert opened.requested_at == T0
        assert inbound_rows.locked_customer(center.pk, "someone-else") is None  # a lock needs its transaction


@pytest.mark.django_db
def test_the_block_state_comes_with_the_customer(center, customer, agent):
    Block.objects.create(customer=customer, reason=Block.Reason.choices[0][0], blocked_at=T0)
    assert inbound_rows.locked_customer(center.pk, customer.user_key).is_blocked_now is True
    Block.objects.filter(customer=customer).update(ended_at=T0)
    assert inbound_rows.locked_customer(center.pk, customer.user_key).is_blocked_now is False


@pytest.mark.django_db
def test_a_closed_consultation_is_not_the_open_one(center, customer):
    Consultation.objects.create(
        center=center,
        customer=customer,
        status=Status.CLOSED,
        requested_at=T0,
        last_activity_at=T0,
        closed_at=T0,
        close_reason="agent",
    )
    assert inbound_rows.locked_open_consultation(customer.pk) is None
