"""Clients of the fixed cast (conftest.py at the root): an agent, a manager, a master, another center's manager."""

import pytest

from counsel_center.models import Member
from counsel_center.tests.factories import MemberFactory, UserFactory


@pytest.fixture
def as_member(client):
    """The test client signed in as the given member."""

    def sign_in(member):
        client.force_login(member.user)
        return client

    return sign_in


@pytest.fixture
def plain_manager(center):
    """A manager without 상담 권한 (no statistics)."""
    user = UserFactory(username="nora", is_staff=True)
    return MemberFactory(center=center, user=user, role=Member.Role.MANAGER, display_name="Nora", can_consult=False)
