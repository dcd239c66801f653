"""factory_boy factories of the consultations app's models."""

import factory
from django.utils import timezone

from consultations.models import Consultation, Message, Status
from counsel_center.tests.factories import CenterFactory
from customers.tests.factories import CustomerFactory


class ConsultationFactory(factory.django.DjangoModelFactory):
    """Rows in a given state, for tests that need a starting point.

    Only tests write state this way; the product goes through lifecycle.
    """

    class Meta:
        model = Consultation

    center = factory.SubFactory(CenterFactory)
    customer = factory.SubFactory(CustomerFactory, center=factory.SelfAttribute("..center"))
    status = Status.UNASSIGNED
    assignee = None
    requested_at = factory.LazyFunction(timezone.now)
    last_activity_at = factory.LazyFunction(timezone.now)
    assigned_at = factory.LazyAttribute(lambda o: o.requested_at if o.assignee else None)
    first_response_at = factory.LazyAttribute(lambda o: o.requested_at if o.status == Status.IN_PROGRESS else None)


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    consultation = factory.SubFactory(ConsultationFactory)
    sender = Message.Sender.CUSTOMER
    text = "안녕하세요"
    created_at = factory.LazyFunction(timezone.now)
