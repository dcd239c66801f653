"""row_writes: the webhook's inserts and updates store exactly what `Model.save()` stores, on either database."""

from datetime import timedelta

import pytest
from django.db.models.signals import post_save, pre_save

from consultations import row_writes
from consultations.models import ChannelEvent, Consultation, DeliveryState, Event, Message, Status

from .helpers import T0


def _row(model, pk) -> dict:
    values = model.objects.filter(pk=pk).values().get()
    values.pop("id")
    return values


@pytest.fixture
def consultation(center, customer):
    return Consultation.objects.create(
        center=center, customer=customer, status=Status.UNASSIGNED, requested_at=T0, last_activity_at=T0
    )


def _same_row_both_ways(make) -> tuple[dict, dict]:
    by_orm = make()
    by_orm.save()
    fast = row_writes.insert(make())
    assert fast.pk is not None and fast.pk != by_orm.pk
    assert fast._state.adding is False
    return _row(type(fast), by_orm.pk), _row(type(fast), fast.pk)


@pytest.mark.django_db
def test_a_message_is_stored_as_save_stores_it(consultation, agent):
    def make():
        return Message(
            consultation=consultation,
            sender=Message.Sender.AGENT,
            text="안녕하세요 <b>고객님</b> 'quote' \\ 100%",
            author=agent,
            channel_event_id="",
            channel_sent_at=T0 + timedelta(seconds=1, microseconds=123456),
            delivery_state=DeliveryState.PENDING,
            delivery_due_at=None,
            created_at=T0 + timedelta(minutes=3),
        )

    by_orm, fast = _same_row_both_ways(make)
    assert fast == by_orm
    assert fast["channel_sent_at"] == T0 + timedelta(seconds=1, microseconds=123456)
    assert fast["delivery_attempts"] == 0  # the field's default, as save() fills it


@pytest.mark.django_db
def test_an_event_with_json_data_and_null_keys_is_stored_as_save_stores_it(center, consultation):
    data = {"reason": "종료", "nested": {"list": [1, 2.5, None, True]}, "text": 'a"b'}

    def make():
        return Event(
            center=center, consultation=consultation, customer=None, kind=Event.Kind.MESSAGE, created_at=T0, data=data
        )

    by_orm, fast = _same_row_both_ways(make)
    assert fast == by_orm
    assert fast["data"] == data
    assert fast["actor_id"] is None


@pytest.mark.django_db
def test_a_channel_event_is_stored_and_its_unique_key_still_holds(center):
    from django.db import IntegrityError, transaction

    answer = {"consultation_id": "ABC", "message_id": 7, "customer_id": "C1", "duplicate": False}
    first = row_writes.insert(
        ChannelEvent(center=center, event_id="e-1", type="message", received_at=T0, response=answer)
    )
    assert ChannelEvent.objects.get(pk=first.pk).response == answer
    with pytest.raises(IntegrityError), transaction.atomic():
        row_writes.insert(ChannelEvent(center=center, event_id="e-1", type="message", received_at=T0, response={}))
    assert ChannelEvent.objects.filter(center=center, event_id="e-1").count() == 1


@pytest.mark.django_db
def test_update_writes_the_named_fields_only(consultation, agent):
    message = row_writes.insert(
        Message(consultation=consultation, sender=Message.Sender.CUSTOMER, text="hi", created_at=T0)
    )
    Consultation.objects.filter(pk=consultation.pk).update(is_important=True)  # a change made elsewhere
    consultation.last_message = message
    consultation.last_activity_at = T0 + timedelta(hours=1)
    consultation.is_important = False  # not named: must not be written
    row_writes.update(consultation, ("last_message", "last_activity_at"))
    stored = Consultation.objects.get(pk=consultation.pk)
    assert stored.last_message_id == message.pk
    assert stored.last_activity_at == T0 + timedelta(hours=1)
    assert stored.is_important is True


@pytest.mark.django_db
@pytest.mark.parametrize("signal", [pre_save, post_save])
def test_a_save_receiver_makes_the_fast_path_refuse_rather_than_skip_it(signal, consultation):
    def receiver(**kwargs):
        pass

    signal.connect(receiver, sender=Message, weak=False)
    try:
        with pytest.raises(RuntimeError, match="save signal receivers"):
            row_writes.insert(Message(consultation=consultation, sender="customer", text="x", created_at=T0))
        with pytest.raises(RuntimeError, match="save signal receivers"):
            row_writes.update(Message(pk=1, consultation=consultation, text="x"), ("text",))
    finally:
        signal.disconnect(receiver, sender=Message)
    assert not Message.objects.exists()
