"""factory_boy factories of the project app's models: users, centers, members.

Each app's tests/factories.py builds that app's models (customers/tests/factories.py,
consultations/tests/factories.py).
"""

import factory
from django.contrib.auth import get_user_model

from counsel_center.models import Center, Member


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
