"""factory_boy factories of the customers app's models."""

import factory

from counsel_center.tests.factories import CenterFactory
from customers.models import Customer


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    center = factory.SubFactory(CenterFactory)
    user_key = factory.Sequence(lambda n: f"user-key-{n}")
    profile_nickname = factory.Sequence(lambda n: f"고객{n}")
