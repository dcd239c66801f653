"""Shared set-up of the browser tests: Debian's Chromium driven by Playwright's sync API.

Never a browser Playwright downloads: `/usr/bin/chromium` (apt-get install
chromium). Where it is missing the tests are skipped with that reason, except
with REQUIRE_BROWSER=1 (CI), where a missing Chromium is a failure.

Playwright's sync API keeps an event loop in the test's thread, so Django's
"async unsafe" guard must be switched off (DJANGO_ALLOW_ASYNC_UNSAFE) for the
test's own ORM calls, which stay plain synchronous code.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pytest
from django.db import connections

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
TIMEOUT_MS = 10_000
DESKTOP = {"width": 1280, "height": 900}
PASSWORD = "password"  # every user of the conftest cast (counsel_center/tests/factories.py)


def sync_api() -> ModuleType:
    """playwright.sync_api, or a skip (a failure with REQUIRE_BROWSER=1) when it or Chromium is missing."""
    if os.environ.get("REQUIRE_BROWSER") == "1":  # CI installs Chromium: there a missing one is a failure
        from playwright import sync_api as api

        assert shutil.which(CHROMIUM), f"Debian's Chromium is not installed at {CHROMIUM}"
        return api
    # A newcomer's machine with only Python: `apt-get install chromium` enables these tests.
    api = pytest.importorskip("playwright.sync_api", reason="playwright is a dev requirement")
    if not shutil.which(CHROMIUM):
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    return api


@contextmanager
def chromium(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A running Chromium (playwright's Browser), closed afterwards."""
    api = sync_api()
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
            # While Playwright's event loop runs in this thread, Django's connections are kept per async
            # context (asgiref's Local), so pytest-django's teardown never sees the ones the test opened:
            # left open, they kept the test database from being dropped at the end of the run.
            connections.close_all()


@dataclass
class Tab:
    """A page and the script errors it raised (`pageerror`), which a test expects to stay empty."""

    page: Any
    errors: list[str] = field(default_factory=list)


def open_tab(context: Any) -> Tab:
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    tab = Tab(page)
    page.on("pageerror", lambda error: tab.errors.append(str(error)))
    return tab


def new_context(
    browser: Any,
    *,
    viewport: dict | None = None,
    locale: str = "ko-KR",
    timezone_id: str | None = None,
    bypass_csp: bool = False,
) -> Any:
    """A fresh context (its own cookies), Korean by default: Accept-Language follows the locale.

    `timezone_id`: the browser's own time zone (the machine's when None). `bypass_csp`: the pages' policy is not
    applied, for a test that injects a script of its own (axe); every other test runs under the policy."""
    options: dict[str, Any] = {"timezone_id": timezone_id} if timezone_id else {}
    if bypass_csp:
        options["bypass_csp"] = True
    return browser.new_context(locale=locale, viewport=viewport or DESKTOP, **options)


def log_in(page: Any, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Log in through the real form at /login/ and wait for the console it leads to."""
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click(".login-form button[type=submit]")
    page.wait_for_url(f"{base_url}/consultations/**")


def session_context(browser: Any, base_url: str, session_cookie: tuple[str, str], **options) -> Any:
    """A context already logged in with a session made in Python (client.force_login), no form involved."""
    context = new_context(browser, **options)
    name, value = session_cookie
    context.add_cookies([{"name": name, "value": value, "url": base_url}])
    return context


def session_of(user) -> tuple[str, str]:
    """A session of `user` in the test database, as (cookie name, value) for `session_context`."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value
