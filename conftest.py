"""The fixed cast every test can use.

Center A ("alpha") has two agents (Alice, Bob), a manager (Mina, with 상담 권한)
and a master (Max). Center B ("beta") has a manager (Oscar): the outsider.
"""

import os

import pytest
from django.conf import settings

from consultations.tests.factories import ConsultationFactory
from counsel_center.models import Member
from counsel_center.tests.factories import CenterFactory, MemberFactory, UserFactory
from customers.tests.factories import CustomerFactory


def pytest_collection_modifyitems(config, items):
    """`slow` tests run on PostgreSQL (CI's second pass) or with RUN_SLOW=1; elsewhere they are skipped."""
    if os.environ.get("RUN_SLOW") == "1" or settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        return
    skip = pytest.mark.skip(
        reason="slow: runs on PostgreSQL (set DATABASE_URL, as CI's second pass does) or with RUN_SLOW=1"
    )
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True, scope="session")
def _celery_runs_tasks_in_process():
    """Tasks run where they are queued, so a test sees their effect without a worker or broker."""
    from counsel_center.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"  # uploaded files never outlive the test
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The production manifest storage needs collectstatic before a page can use {% static %}.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def center(db):
    return CenterFactory(slug="alpha", name="알파 상담센터", webhook_secret="alpha-secret")


@pytest.fixture
def other_center(db):
    return CenterFactory(slug="beta", name="베타 상담센터", webhook_secret="beta-secret")


def _member(center, username, role, **extra):
    user = UserFactory(username=username, is_staff=role != Member.Role.AGENT)
    return MemberFactory(center=center, user=user, role=role, display_name=username.title(), **extra)


@pytest.fixture
def agent(center):
    return _member(center, "alice", Member.Role.AGENT)


@pytest.fixture
def agent2(center):
    return _member(center, "bob", Member.Role.AGENT)


@pytest.fixture
def manager(center):
    return _member(center, "mina", Member.Role.MANAGER, can_consult=True)


@pytest.fixture
def master(center):
    return _member(center, "max", Member.Role.MASTER)


@pytest.fixture
def outsider(other_center):
    return _member(other_center, "oscar", Member.Role.MANAGER, can_consult=True)


@pytest.fixture
def customer(center):
    return CustomerFactory(center=center, user_key="kakao-user-1", profile_nickname="김민지")


@pytest.fixture
def make_consultation(center):
    """Build a consultation of center A in a given state (test set-up only)."""

    def make(**kwargs):
        kwargs.setdefault("center", center)
        return ConsultationFactory(**kwargs)

    return make
