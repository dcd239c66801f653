"""Real servers for the live-update tests: uvicorn processes on the test database, an SSE client, a private Redis.

The stream is an async view that only an ASGI server can serve, so each test
server is `uvicorn counsel_center.asgi:application` in a subprocess on
127.0.0.1, pointed at the test database (the tests commit their data:
`django_db(transaction=True)`) and sharing the test process's SECRET_KEY, so
that a session made here with `Client.force_login` signs the client in there.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from consultations.channel import signing

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
START_SECONDS = 60  # a cold Django start on a busy 2-core machine
READ_TIMEOUT_SECONDS = 30  # no test waits this long for one line: a hung stream fails, it does not hang


def redis_url() -> str:
    return os.environ.get("REDIS_URL", "")


def on_postgresql() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


needs_redis = pytest.mark.skipif(
    not redis_url(), reason="needs Redis: set REDIS_URL (the PostgreSQL+Redis run of the suite)"
)
needs_postgresql = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
    reason="needs PostgreSQL: set DATABASE_URL (the PostgreSQL+Redis run of the suite)",
)


# Runs `argv[1:]` after asking Linux to SIGTERM it when the test process dies: a
# test run that is killed leaves no server behind on a machine others share.
_DIE_WITH_PARENT = (
    "import ctypes, os, signal, sys; "
    "ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM); "  # PR_SET_PDEATHSIG
    "os.execv(sys.argv[1], sys.argv[1:])"
)


def dying_with_us(command: list[str]) -> list[str]:
    return [sys.executable, "-c", _DIE_WITH_PARENT, *command]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def database_url_for(application_name: str) -> str:
    """The URL of the database the tests run on (pytest-django's test database)."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    user = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    address = f"{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}"
    return f"postgres://{user}@{address}/{db['NAME']}?application_name={application_name}"


def wait_until_disconnected(application_name_like: str, *, timeout: float = 10.0) -> bool:
    """Until PostgreSQL has ended the backends whose application_name is LIKE the pattern (stopped processes').

    The test database is flushed and dropped next, which fails while they are on their way out. True once
    they are gone (at once off PostgreSQL), False after `timeout`. pg_stat_activity is a server view the ORM
    has no API for.
    """
    if connection.vendor != "postgresql":
        return True
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE %s",
                [application_name_like],
            )
            if cursor.fetchone()[0] == 0:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)


# --- servers ---------------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log_path: Path
    env: dict[str, str]

    @property
    def application_name(self) -> str:
        return self.env["LIVE_TEST_APPLICATION_NAME"]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def threads(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
        raise AssertionError("no thread count in /proc")

    def open_files(self, suffix: str) -> int:
        """How many of the server's file descriptors point at a path ending in `suffix` (SQLite's files)."""
        count = 0
        for fd in Path(f"/proc/{self.process.pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd).endswith(suffix):
                    count += 1
        return count

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_server(
    name: str,
    work: Path,
    *,
    redis: str = "",
    debug: bool = False,
    environment: dict[str, str] | None = None,
    wsgi: bool = False,
    workers: int = 1,
    threads: int = 4,
    **live_settings: float,
) -> Server:
    """uvicorn on a free port of 127.0.0.1, on the test database; `live_settings` as LIVE_* variables.

    `debug`: DEBUG on, so that pages find their static files without collectstatic (the browser tests).
    `environment`: more variables for the server (settings, TMPDIR).
    `wsgi`: gunicorn with `gthread` workers (`workers` of `threads` threads) on the WSGI entry point
    instead, as production's web processes.
    """
    port = free_port()
    application_name = f"live-test-{name}-{port}"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LIVE_", "DATABASE_URL", "REDIS_URL", "DB_POOL", "CONN_MAX_AGE"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="counsel_center.settings",
        DATABASE_URL=database_url_for(application_name),
        SECRET_KEY=settings.SECRET_KEY,
        VAR_DIR=str(work / name),
        DEBUG="1" if debug else "0",
        CELERY_TASK_ALWAYS_EAGER="1",
        LIVE_TEST_APPLICATION_NAME=application_name,
        PYTHONUNBUFFERED="1",
    )
    if redis:
        env["REDIS_URL"] = redis
    for key, value in live_settings.items():
        env[f"LIVE_{key.upper()}"] = str(value)
    env.update(environment or {})
    log_path = work / f"{name}.log"
    if wsgi:
        command = [sys.executable, "-m", "gunicorn", "counsel_center.wsgi:application", "-k", "gthread"]
        command += ["-w", str(workers), "--threads", str(threads), "-b", f"{HOST}:{port}"]
        command += ["--log-level", "warning", "--graceful-timeout", "1"]
    else:
        command = [sys.executable, "-m", "uvicorn", "counsel_center.asgi:application", "--host", HOST]
        command += ["--port", str(port), "--log-level", "warning", "--timeout-graceful-shutdown", "1"]
    with log_path.open("w") as log:
        process = subprocess.Popen(dying_with_us(command), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    server = Server(name=name, port=port, process=process, log_path=log_path, env=env)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server {name} exited with {process.returncode}:\n{server.log()}")
        try:
            status, _ = get(server, "/events/stream")
        except OSError:
            time.sleep(0.2)
            continue
        if status != (204 if wsgi else 401):  # under WSGI the stream answers 204 to everyone
            server.stop()  # never leave a server behind that no fixture will stop
            raise AssertionError(f"an anonymous stream request answered {status}:\n{server.log()}")
        return server
    server.stop()
    raise AssertionError(f"server {name} did not answer within {START_SECONDS} s:\n{server.log()}")


class Servers:
    """Servers started on first use and kept for the test session (each start costs seconds)."""

    def __init__(self) -> None:
        self.work = Path(tempfile.mkdtemp(prefix="live-tests-"))
        self._servers: dict[str, Server] = {}

    def get(self, name: str, **options) -> Server:
        server = self._servers.get(name)
        if server is None or server.process.poll() is not None:
            server = self._servers[name] = start_server(name, self.work, **options)
        return server

    def start(self, name: str, **options) -> Server:
        """A server of this test alone, stopped with the others at the latest."""
        server = start_server(f"{name}-{free_port()}", self.work, **options)
        self._servers[server.name] = server
        return server

    def stop_all(self) -> None:
        for server in self._servers.values():
            server.stop()
        shutil.rmtree(self.work, ignore_errors=True)


def get(server: Server, path: str, headers: dict | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, server.port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def session_cookie(user) -> str:
    """A session of `user` in the test database, as the Cookie header a browser would send."""
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


# --- the channel's side ----------------------------------------------------------------------------

_event_numbers = iter(range(1, 10**9))


@dataclass
class Posted:
    sent_at: float  # time.monotonic() just before the request
    answered_at: float
    status: int
    body: dict


def text_event(event_id: str, text: str, *, user_key: str = "kakao-user-1") -> dict:
    """A customer's text message as the channel sends it (SPEC §7)."""
    return {
        "event_id": event_id,
        "type": "message",
        "user_key": user_key,
        "profile_nickname": "김민지",
        "is_friend": True,
        "message": {"kind": "text", "text": text},
    }


def signed_request(center, event: dict) -> tuple[bytes, dict[str, str]]:
    """The body and headers of `event` signed now as the channel signs it; sent again as they are, a duplicate."""
    body = json.dumps(event, ensure_ascii=False).encode()
    return body, {"Content-Type": "application/json", **signing.signed_headers(center.webhook_secret, body)}


def post_message(server: Server, center, text: str, *, user_key: str = "kakao-user-1") -> Posted:
    """A customer's text message through the center's webhook on `server`, signed as the channel signs it."""
    event = text_event(f"live-{os.getpid()}-{next(_event_numbers)}", text, user_key=user_key)
    body, headers = signed_request(center, event)
    conn = http.client.HTTPConnection(HOST, server.port, timeout=30)
    try:
        sent_at = time.monotonic()
        conn.request("POST", f"/channel/{center.slug}/events", body=body, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        answered_at = time.monotonic()
    finally:
        conn.close()
    return Posted(sent_at, answered_at, response.status, json.loads(payload) if payload else {})


class ChannelConnection:
    """A channel's keep-alive connection to the webhooks of `server`, one request at a time.

    Renewed every RENEW_AFTER requests, so that the connections of many clients
    spread over a server's workers (docs/perf.md), and after an idle second,
    before gunicorn's keep-alive (2 s) could close it under a request.
    """

    RENEW_AFTER = 25
    IDLE_SECONDS = 1.0

    def __init__(self, server: Server, *, timeout: float = 30) -> None:
        self.server = server
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None
        self._used = 0
        self._last = 0.0

    def post(self, slug: str, body: bytes, headers: dict[str, str]) -> Posted:
        """POST a signed event; an answer that is not JSON is kept as `{"text": ...}`. Errors close and raise."""
        if self._conn is None or self._used >= self.RENEW_AFTER or time.monotonic() - self._last > self.IDLE_SECONDS:
            self.close()
            self._conn = http.client.HTTPConnection(HOST, self.server.port, timeout=self.timeout)
            self._used = 0
        self._used += 1
        try:
            sent_at = time.monotonic()
            self._conn.request("POST", f"/channel/{slug}/events", body=body, headers=headers)
            response = self._conn.getresponse()
            payload = response.read()
            answered_at = self._last = time.monotonic()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        try:
            answer = json.loads(payload)
        except ValueError:
            answer = {"text": payload.decode(errors="replace")[:500]}
        return Posted(sent_at, answered_at, response.status, answer)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def post_in_thread(server: Server, center, text: str, **kwargs) -> Posted:
    """`post_message` from another thread, as a channel's request arrives beside the test's stream."""
    results: list[Posted | BaseException] = []

    def post() -> None:
        try:
            results.append(post_message(server, center, text, **kwargs))
        except BaseException as error:
            results.append(error)

    thread = threading.Thread(target=post)
    thread.start()
    thread.join(timeout=60)
    assert results, "the webhook call hung"
    if isinstance(results[0], BaseException):
        raise results[0]
    posted = results[0]
    assert posted.status == 200, posted
    return posted


# --- the browser's side: an SSE client -------------------------------------------------------------


@dataclass
class Message:
    """One SSE block as received: its fields, the comments in it, the raw text and when it arrived."""

    at: float
    id: str | None = None
    event: str | None = None
    data: str | None = None
    retry: str | None = None
    comments: list[str] = field(default_factory=list)
    raw: str = ""

    @property
    def json(self) -> dict:
        return json.loads(self.data)


class SseClient:
    """Reads `/events/stream` on a thread of its own; `next` takes what arrived, in order."""

    def __init__(
        self, server: Server, cookie: str | None, *, last: str | None = None, last_event_id=None, language: str = "en"
    ) -> None:
        path = "/events/stream" + (f"?last={last}" if last is not None else "")
        headers = {"Accept": "text/event-stream", "Accept-Language": language}
        if cookie:
            headers["Cookie"] = cookie
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.conn = http.client.HTTPConnection(HOST, server.port, timeout=READ_TIMEOUT_SECONDS)
        self.conn.request("GET", path, headers=headers)
        self.response = self.conn.getresponse()
        self.status = self.response.status
        self.headers = self.response.headers
        self.messages: queue.Queue[Message | None] = queue.Queue()
        self.preamble: list[str] = []  # the comments of `open_stream`'s first messages
        self.closed = threading.Event()
        self._thread = None
        if self.status == 200:
            self._thread = threading.Thread(target=self._read, daemon=True)
            self._thread.start()
        else:
            self.body = self.response.read()
            self.conn.close()

    def _read(self) -> None:
        lines: list[str] = []
        try:
            while True:
                raw = self.response.readline()
                if not raw:
                    break
                line = raw.decode().rstrip("\r\n")
                if line:
                    lines.append(line)
                    continue
                if lines:
                    self.messages.put(parse_block(lines, time.monotonic()))
                    lines = []
        except (OSError, ValueError, AttributeError, http.client.HTTPException):  # AttributeError: closed mid-read
            pass  # closed by `close`, or by the server
        finally:
            self.closed.set()
            self.messages.put(None)

    def next(self, timeout: float = 10.0) -> Message:
        try:
            message = self.messages.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"nothing arrived on the stream within {timeout} s") from None
        if message is None:
            self.messages.put(None)  # stays closed for the next caller
            raise AssertionError("the stream ended")
        return message

    def next_matching(self, predicate, timeout: float = 10.0) -> tuple[Message, list[Message]]:
        """The first message for which `predicate` holds, and every message before it."""
        deadline = time.monotonic() + timeout
        skipped = []
        while True:
            message = self.next(timeout=max(deadline - time.monotonic(), 0.001))
            if predicate(message):
                return message, skipped
            skipped.append(message)

    def next_event(self, kind: str | None = None, timeout: float = 10.0) -> Message:
        message, _ = self.next_matching(
            lambda m: m.event is not None and (kind is None or m.event == kind), timeout=timeout
        )
        return message

    def next_stored(self, timeout: float = 10.0) -> Message:
        """The next message that is an Event (it has an `id:`), skipping the page's summaries and comments."""
        message, _ = self.next_matching(lambda m: m.id is not None, timeout=timeout)
        return message

    def next_comment(self, text: str, timeout: float = 10.0) -> Message:
        message, _ = self.next_matching(lambda m: text in m.comments, timeout=timeout)
        return message

    def pending(self) -> list[Message]:
        """What has arrived and not been taken yet."""
        taken = []
        while True:
            try:
                message = self.messages.get_nowait()
            except queue.Empty:
                return taken
            if message is None:
                self.messages.put(None)
                return taken
            taken.append(message)

    def __enter__(self) -> SseClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Drop the connection as a browser tab closing would (no goodbye at the HTTP level)."""
        sock = self.conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.conn.close()
        if self._thread is not None:
            self._thread.join(timeout=10)


def parse_block(lines: list[str], at: float) -> Message:
    message = Message(at=at, raw="\n".join(lines))
    for line in lines:
        if line.startswith(":"):
            message.comments.append(line[1:].strip())
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            message.data = value if message.data is None else f"{message.data}\n{value}"
        elif name in ("id", "event", "retry"):
            setattr(message, name, value)
    return message


def stream(server: Server, cookie: str | None, **kwargs) -> SseClient:
    """A request for the stream, whatever the answer (`status`, `headers`, `body` when not 200)."""
    return SseClient(server, cookie, **kwargs)


def open_stream(server: Server, cookie: str, **kwargs) -> SseClient:
    """A stream that has started: `retry` and the mode comment read, so the server has subscribed (or not).

    `preamble` holds that comment: "live doorbell" (subscribed to Redis) or "live polling".
    """
    client = SseClient(server, cookie, **kwargs)
    assert client.status == 200, (client.status, getattr(client, "body", b""))
    mode, _ = client.next_matching(lambda m: any(c.startswith("live ") for c in m.comments))
    client.preamble = mode.comments
    return client


# --- a Redis server of one test's own --------------------------------------------------------------


class PrivateRedis:
    """`redis-server` on a free port, no persistence: a test may stop and restart it without touching anyone else's."""

    def __init__(self, work: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed (apt-get install redis-server): the Redis tests need it")
        self.binary = binary
        self.port = free_port()
        self.work = work
        self.process: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def start(self) -> None:
        command = [self.binary, "--port", str(self.port), "--bind", HOST, "--save", "", "--appendonly", "no"]
        command += ["--dir", str(self.work)]
        self.process = subprocess.Popen(dying_with_us(command), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                if self.client().ping():
                    return
            time.sleep(0.05)
        raise AssertionError("the private redis-server did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def client(self):
        import redis

        return redis.Redis(host=HOST, port=self.port, socket_timeout=2, socket_connect_timeout=2)

    def subscribers(self, channel: str) -> int:
        with self.client() as client:
            return dict(client.pubsub_numsub(channel)).get(channel.encode(), 0)

    def subscribing_clients(self) -> int:
        """Connections in subscribe mode (CLIENT LIST's `sub` > 0), ours excluded."""
        with self.client() as client:
            return sum(1 for entry in client.client_list() if int(entry.get("sub", 0)) > 0)


def eventually(check, *, timeout: float = 10.0, interval: float = 0.1, message: str = ""):
    """Until `check()` is truthy (returned), or fail with its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{message or 'condition'} not met within {timeout} s (last: {value!r})")
        time.sleep(interval)
