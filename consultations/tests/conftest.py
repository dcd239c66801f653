"""Fixtures of the live-update tests (consultations/tests/live.py): real servers, a private Redis."""

import socket
import time

import pytest
from django.db import connection

from .live import PrivateRedis, Servers
from .receiver import running_receiver


@pytest.fixture(scope="session")
def live_servers(django_db_setup, django_db_blocker):
    """uvicorn servers on the test database, started on first use and stopped before the database is dropped."""
    servers = Servers()
    yield servers
    servers.stop_all()
    if connection.vendor == "postgresql":
        # pytest-django drops the test database next, which fails while a
        # stopped server's backends are still on their way out.
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND application_name LIKE 'live-test-%%'"
                )
                if cursor.fetchone()[0] == 0:
                    break
                time.sleep(0.1)


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
