"""PostgreSQL restarts under real servers (issue 19): the gap gets clean 503s, and the servers recover by themselves.

A cluster of this module's own (private_postgres.py), migrated once and seeded
with a center, a signed-in agent and the channel's secret, serves gunicorn
(`gthread`, production's web processes) with Django's psycopg pool and with
persistent connections, and uvicorn for the live stream. The test stops the
cluster as a restart does (`pg_ctl stop -m fast`) and starts it again; the
servers are never restarted. In-process versions of the 503s, on any database:
test_database_unavailable.py.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import psycopg
import pytest
from django.conf import settings

from consultations.channel import signing
from consultations.tests import browser
from consultations.tests.live import HOST, ROOT, Server, eventually, needs_postgresql, open_stream, start_server, stream

from .private_postgres import PrivatePostgres

pytestmark = [pytest.mark.slow, needs_postgresql]

SECRET = "alpha-secret"
UNAVAILABLE_KO = "일시적으로 서비스를 이용할 수 없습니다. 잠시 후 다시 시도해 주세요."
RECOVERY_SECONDS = 30  # the pool reconnects in the background with a backoff of 1, 2, 4, 8… s

SEED = """
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from counsel_center.models import Center, Member
center = Center.objects.create(slug="alpha", name="알파 상담센터", webhook_secret="alpha-secret")
user = get_user_model().objects.create_user("alice")
Member.objects.create(center=center, user=user, role=Member.Role.AGENT, display_name="Alice")
client = Client()
client.force_login(user)
print(client.cookies[settings.SESSION_COOKIE_NAME].value)
"""


@dataclass
class Cluster:
    postgres: PrivatePostgres
    cookie: str  # a signed-in agent's session, as the browser sends it
    var_dir: str  # the servers' VAR_DIR: static files collected, as production's pages need them (DEBUG off)

    def url(self, application_name: str) -> str:
        return self.postgres.url("counsel", application_name=application_name)

    def environment(self, application_name: str, connections: dict[str, str]) -> dict[str, str]:
        return {"DATABASE_URL": self.url(application_name), "VAR_DIR": self.var_dir, **connections}

    def messages_saying(self, text: str) -> int:
        with psycopg.connect(self.url("test-reader")) as conn:
            return conn.execute("SELECT count(*) FROM consultations_message WHERE text = %s", [text]).fetchone()[0]


def manage(cluster_url: str, var_dir, *args: str) -> str:
    """`manage.py` on the cluster, with the servers' SECRET_KEY (the session made here must sign them in)."""
    env = {**os.environ, "DATABASE_URL": cluster_url, "SECRET_KEY": settings.SECRET_KEY, "VAR_DIR": str(var_dir)}
    done = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    postgres = PrivatePostgres()
    try:
        postgres.create_database("counsel")
        url = postgres.url("counsel")
        var_dir = tmp_path_factory.mktemp("var")
        manage(url, var_dir, "migrate", "--no-input", "-v0")
        manage(url, var_dir, "collectstatic", "--no-input", "-v0")
        session = manage(url, var_dir, "shell", "--no-imports", "-c", SEED).strip()
        yield Cluster(postgres, f"{settings.SESSION_COOKIE_NAME}={session}", str(var_dir))
    finally:
        postgres.destroy()


# --- the clients ---------------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()


def request(
    server: Server, method: str, path: str, *, body: bytes | None = None, headers: dict | None = None
) -> Answer:
    conn = http.client.HTTPConnection(HOST, server.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        conn.close()


def page(server: Server, cluster: Cluster, **headers) -> Answer:
    """The console's list, as a signed-in agent's browser asks for it."""
    return request(
        server, "GET", "/consultations/", headers={"Cookie": cluster.cookie, "Accept-Language": "ko", **headers}
    )


def htmx(server: Server, cluster: Cluster) -> Answer:
    return page(server, cluster, **{"HX-Request": "true", "HX-Target": "list-pane"})


def event(event_id: str, text: str) -> dict:
    message = {"kind": "text", "text": text}
    return {"event_id": event_id, "type": "message", "user_key": "kakao-1", "is_friend": True, "message": message}


def webhook(server: Server, sent: dict) -> Answer:
    """The channel's POST of `sent`, signed afresh as the channel signs each attempt."""
    body = json.dumps(sent, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", **signing.signed_headers(SECRET, body)}
    return request(server, "POST", "/channel/alpha/events", body=body, headers=headers)


def assert_unavailable(answer: Answer, content_type: str) -> None:
    assert answer.status == 503, answer
    assert answer.headers["Retry-After"] == "10"
    assert answer.headers["Content-Type"].startswith(content_type), answer.headers
    assert b"Traceback" not in answer.body


# --- gunicorn, as production's web processes -------------------------------------------------------------------

# The pool's other settings are production's defaults: DB_POOL_MIN_SIZE 2, DB_POOL_TIMEOUT_SECONDS 10.
CONNECTIONS = {"pool": {"DB_POOL_MAX_SIZE": "4"}, "persistent": {"CONN_MAX_AGE": "60"}}


@pytest.mark.parametrize("connections", CONNECTIONS)
def test_a_restart_gives_clean_503s_and_the_server_serves_again_by_itself(cluster, tmp_path, connections):
    environment = cluster.environment(f"pgr-{connections}", CONNECTIONS[connections])
    server = start_server(f"pgr-{connections}", tmp_path, wsgi=True, environment=environment)
    try:
        assert page(server, cluster).status == 200
        assert htmx(server, cluster).status == 200
        assert webhook(server, event(f"{connections}-before", "재시작 전 문의")).status == 200

        # A restart between two requests costs no request: pooled connections are checked before they are
        # lent (the first request pays psycopg_pool's pause of 1, 2… s after each dead one), persistent ones
        # health-checked before they are reused. More requests than the server has threads.
        cluster.postgres.stop()
        cluster.postgres.start()
        assert [page(server, cluster).status for _ in range(6)] == [200] * 6, server.log()

        # During the gap, side by side as a team's browsers and the channel send them (a pooled request
        # waits DB_POOL_TIMEOUT_SECONDS for a connection before its 503).
        during_the_gap = event(f"{connections}-gap", f"점검 중 문의 ({connections})")
        cluster.postgres.stop()
        try:
            with ThreadPoolExecutor(3) as pool:
                asked = [
                    pool.submit(page, server, cluster),
                    pool.submit(webhook, server, during_the_gap),
                    pool.submit(htmx, server, cluster),
                ]
                shown, answered, swapped = (future.result() for future in asked)
        finally:
            cluster.postgres.start()

        assert_unavailable(shown, "text/html")
        assert UNAVAILABLE_KO in shown.text
        assert re.search(r'href="/static/css/console\.\w+\.css"', shown.text)  # the site's look, collected
        assert_unavailable(answered, "application/json")
        assert json.loads(answered.body)["error"] == "database_unavailable"
        assert_unavailable(swapped, "text/plain")
        assert swapped.text == UNAVAILABLE_KO

        eventually(lambda: page(server, cluster).status == 200, timeout=RECOVERY_SECONDS, message="pages again")
        assert htmx(server, cluster).status == 200
        # The channel retries what got a 503: it is stored now, once.
        retried = webhook(server, during_the_gap)
        repeated = webhook(server, during_the_gap)
        assert retried.status == 200 and json.loads(retried.body)["duplicate"] is False
        assert json.loads(repeated.body) == {**json.loads(retried.body), "duplicate": True}
        assert cluster.messages_saying(during_the_gap["message"]["text"]) == 1

        assert server.process.poll() is None  # the same server all along
        log = server.log()
        # One line per failed request, naming it and the error; no traceback (counsel_center/unavailable.py).
        assert "Service Unavailable: /consultations/ (database unreachable:" in log, log
        assert "Service Unavailable: /channel/alpha/events (database unreachable:" in log, log
        assert "Traceback" not in log, log
    finally:
        server.stop()


# --- uvicorn: the live stream, and the webhook's early check outside Django's handler -------------------------


def test_the_live_stream_rides_out_a_restart(cluster, tmp_path):
    # A connection per read (CONN_MAX_AGE 0), as production's stream processes may run (docs/operations.md).
    server = start_server("pgr-stream", tmp_path, environment=cluster.environment("pgr-stream", {}), poll_seconds=0.2)
    try:
        with open_stream(server, cluster.cookie) as live:
            cluster.postgres.stop()
            try:
                refused = stream(server, cluster.cookie)
                answered = webhook(server, event("stream-gap", "스트림 점검 중 문의"))
                eventually(lambda: "live updates: reading events failed" in server.log(), message="the stream's read")
            finally:
                cluster.postgres.start()

            # A new stream is refused cleanly (the browser's SSE extension tries again); the webhook's early
            # check, which runs before Django's handler under ASGI, leaves the 503 to Django.
            assert refused.status == 503 and refused.body.decode() == "Live updates are unavailable at the moment."
            assert_unavailable(answered, "application/json")

            # The open stream carries on: the retried event arrives on it.
            eventually(
                lambda: webhook(server, event("stream-gap", "스트림 점검 중 문의")).status == 200,
                timeout=RECOVERY_SECONDS,
                message="the webhook again",
            )
            live.next_matching(lambda m: m.event == "message.created", timeout=RECOVERY_SECONDS)

        with open_stream(server, cluster.cookie):  # a reconnecting browser's new stream starts
            pass

        log = server.log()
        assert "live updates: cannot open a stream (database unreachable:" in log, log
        assert "live updates: reading events failed; retrying (database unreachable:" in log, log
        assert "Traceback" not in log, log
    finally:
        server.stop()


# --- the console in a browser: a failed htmx request says why ------------------------------------------------


def test_the_console_says_so_when_a_click_meets_the_restart(cluster, tmp_path, monkeypatch):
    server = start_server(
        "pgr-browser", tmp_path, wsgi=True, environment=cluster.environment("pgr-browser", CONNECTIONS["persistent"])
    )
    base = f"http://{HOST}:{server.port}"
    name, value = cluster.cookie.split("=", 1)
    try:
        with browser.chromium(monkeypatch) as chromium:
            tab = browser.open_tab(browser.session_context(chromium, base, (name, value)))
            tab.page.goto(f"{base}/consultations/")
            waiting_tab = tab.page.locator("nav.tabs a.tab").nth(1)
            notice = tab.page.locator(".request-notice")

            cluster.postgres.stop()
            try:
                waiting_tab.click()  # htmx swaps no error: console.js shows the 503's sentence
                notice.wait_for(state="visible")
                assert notice.text_content() == UNAVAILABLE_KO
                assert notice.get_attribute("role") == "alert"
            finally:
                cluster.postgres.start()

            waiting_tab.click()  # the database is back: the pane swaps and the notice goes
            notice.wait_for(state="hidden")
            assert "tab=" in tab.page.url
            assert tab.errors == []
    finally:
        server.stop()
