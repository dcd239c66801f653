"""The fixed cast every test can use.

Center A ("alpha") has two agents (Alice, Bob), a manager (Mina, with 상담 권한)
and a master (Max). Center B ("beta") has a manager (Oscar): the outsider.

Below the cast, the fixtures of the live-update and delivery tests of
consultations/ and console/ (consultations/tests/live.py, receiver.py): real
servers, a private Redis, a channel's receiving end.
"""

import os
import socket

import pytest
from django.conf import settings

from consultations.tests.factories import ConsultationFactory
from consultations.tests.live import PrivateRedis, Servers, wait_until_disconnected
from consultations.tests.receiver import running_receiver
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
def alice_client(client, agent):
    """The test client signed in as Alice, an agent of center A."""
    client.force_login(agent.user)
    return client


@pytest.fixture
def upload_dir(settings, tmp_path):
    """Uploads stream to a temporary directory of this test alone, to see that nothing is left there."""
    directory = tmp_path / "uploads"
    directory.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(directory)
    return directory


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


# The live-update and delivery tests' fixtures: real servers, a private Redis, a channel's receiving end.


@pytest.fixture(scope="session")
def live_servers(django_db_setup, django_db_blocker):
    """uvicorn servers on the test database, started on first use and stopped before the database is dropped."""
    servers = Servers()
    yield servers
    servers.stop_all()
    with django_db_blocker.unblock():
        wait_until_disconnected("live-test-%")  # pytest-django drops the test database next


@pytest.fixture
def private_redis(tmp_path):
    """A redis-server of this test alone, which it may stop and start again."""
    server = PrivateRedis(tmp_path)
    yield server
    server.kill()


@pytest.fixture
def receiver():
    """A channel's receiving end on loopback (consultations/tests/receiver.py)."""
    with running_receiver() as receiver:
        yield receiver


@pytest.fixture
def closed_port_url() -> str:
    """A URL where nothing listens: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/channel/outbound"
