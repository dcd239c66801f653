"""factory_boy factories shared by every app's tests."""

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from consultations.models import Consultation, Message, Status
from counsel_center.models import Center, Member
from customers.models import Customer


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("password")


class CenterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Center
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"center-{n}")
    name = factory.Sequence(lambda n: f"센터 {n}")
    webhook_secret = factory.Sequence(lambda n: f"secret-{n}")


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    center = factory.SubFactory(CenterFactory)
    user = factory.SubFactory(UserFactory)
    role = Member.Role.AGENT
    display_name = factory.LazyAttribute(lambda o: o.user.username.title())


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    center = factory.SubFactory(CenterFactory)
    user_key = factory.Sequence(lambda n: f"user-key-{n}")
    profile_nickname = factory.Sequence(lambda n: f"고객{n}")


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
