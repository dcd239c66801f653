"""Fixtures of the console's browser tests against a live-update server (test_browser_live, test_browser_attachments).

Modules that need another server or browser set-up define their own `server` or `chromium`, which win.
"""

import pytest

from consultations.tests import browser
from consultations.tests.live import redis_url


@pytest.fixture
def server(live_servers):
    """The browser tests' uvicorn server, started once per run: DEBUG serves the static files from the source
    tree (no collectstatic); the doorbell when the run has Redis."""
    return live_servers.get("browser", redis=redis_url(), debug=True)


@pytest.fixture
def chromium(monkeypatch):
    with browser.chromium(monkeypatch) as running:
        yield running
