"""The production set-up of docs/operations.md, started from nothing, used once end to end.

What a team does on a new server, on this machine's PostgreSQL and Redis:

1. a fresh virtual environment with `requirements.txt` alone (nothing the dev
   requirements bring);
2. the environment, `migrate` and `collectstatic` of docs/operations.md;
3. the web, stream, worker and beat commands of the docs' process table, read
   from the docs themselves, so that the documented commands are the tested
   ones;
4. a channel: a signed customer message to the webhook, an agent who logs in
   (behind the documented TLS proxy), takes the consultation and answers;
   a receiver on loopback as the outbound URL, which must get that answer
   signed, once; beat's idle sweep, which must close the consultation after
   the center's idle time (1 minute, the shortest a center allows);
5. files both ways: a customer's PNG through the webhook, whose thumbnail the
   worker must make; an agent's PDF from the composer, which the receiver must
   get as a signed link that serves the bytes without a session;
6. the agent's live-update stream on the stream process, which must carry the
   next customer message;
7. an unsigned 1 GiB POST, which the web process must refuse within a second.

Run by `make smoke` and by CI's PostgreSQL + Redis pass. Exits non-zero with the
processes' logs on the first failure.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import http.client
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import venv
import zlib
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from consultations.tests.receiver import running_receiver  # noqa: E402 (standard library only)

HOST = "127.0.0.1"
IDLE_CLOSE_BOUND_SECONDS = 150  # 1 minute idle + a sweep every 5 s, on a busy 2-core machine


class SmokeFailure(Exception):
    pass


def step(text: str) -> None:
    print(f"--- {text}", flush=True)


def check(condition: bool, what: str) -> None:
    if not condition:
        raise SmokeFailure(what)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def documented_processes(port: int, stream_port: int, schedule: Path) -> dict[str, list[str]]:
    """The commands of docs/operations.md's process table, bound to `port`, `stream_port` and `schedule`."""
    table = (ROOT / "docs" / "operations.md").read_text()
    commands = dict(re.findall(r"^\| (web|stream|worker|beat) \| `([^`]+)` \|", table, flags=re.MULTILINE))
    found = sorted(commands)
    check(set(commands) == {"web", "stream", "worker", "beat"}, f"docs/operations.md's process table: found {found}")
    check("127.0.0.1:8000" in commands["web"], "the documented web command binds 127.0.0.1:8000")
    check("127.0.0.1:8001" in commands["stream"], "the documented stream command binds 127.0.0.1:8001")
    check("/var/lib/counsel/celerybeat-schedule" in commands["beat"], "the documented beat schedule path")
    commands["web"] = commands["web"].replace("127.0.0.1:8000", f"{HOST}:{port}")
    commands["stream"] = commands["stream"].replace("127.0.0.1:8001", f"{HOST}:{stream_port}")
    commands["beat"] = commands["beat"].replace("/var/lib/counsel/celerybeat-schedule", str(schedule))
    return {name: shlex.split(command) for name, command in commands.items()}


class Site:
    """A browser's view of the site behind a TLS proxy: cookies kept, CSRF answered, X-Forwarded-Proto sent."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes = b"", headers: dict | None = None):
        conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
        all_headers = {
            "Host": f"{HOST}:{self.port}",
            "X-Forwarded-Proto": "https",
            "Origin": f"https://{HOST}:{self.port}",
            "Accept-Language": "en",
            **(headers or {}),
        }
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            payload = response.read()
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, response.headers, payload

    def multipart(self, path: str, fields: dict[str, str], file: tuple[str, str, bytes], headers: dict | None = None):
        """POST `fields` and one `file` (field name, file name, bytes) as multipart/form-data."""
        boundary = secrets.token_hex(12)
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            for name, value in fields.items()
        ]
        field, filename, content = file
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n".encode()
            + content
            + f"\r\n--{boundary}--\r\n".encode()
        )
        token = {"X-CSRFToken": self.cookies.get("csrftoken", "")}
        content_type = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        return self.request("POST", path, b"".join(parts), {**content_type, **token, **(headers or {})})

    def form(self, path: str, fields: dict[str, str], headers: dict | None = None):
        from urllib.parse import urlencode

        token = {"X-CSRFToken": self.cookies.get("csrftoken", "")}
        body = urlencode(fields).encode()
        content = {"Content-Type": "application/x-www-form-urlencoded"}
        return self.request("POST", path, body, {**content, **token, **(headers or {})})


def signed(secret: str, body: bytes) -> dict[str, str]:
    timestamp = str(int(time.time()))
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Channel-Timestamp": timestamp, "X-Channel-Signature": f"sha256={mac}"}


def wait_for(what: str, probe, *, timeout: float, interval: float = 1.0):
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SmokeFailure(f"{what}: not within {timeout:g} s (last: {value!r})")
        time.sleep(interval)


def first_status_line(port: int, path: str, length: int, headers: dict[str, str]) -> tuple[bytes, float]:
    """Declare `length` bytes, send zeros until an answer comes: (the status line, seconds)."""
    import select

    sock = socket.create_connection((HOST, port))
    head = [f"POST {path} HTTP/1.1", f"Host: {HOST}", f"Content-Length: {length}"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    started = time.monotonic()
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    sock.setblocking(False)
    answer, zeros = b"", b"\0" * 65536
    try:
        while b"\r\n" not in answer and time.monotonic() - started < 10:
            readable, writable, _ = select.select([sock], [sock], [], 0.2)
            if readable:
                data = sock.recv(4096)
                if not data:
                    break
                answer += data
            elif writable:
                with contextlib.suppress(BlockingIOError, BrokenPipeError, ConnectionResetError):
                    sock.send(zeros)
    finally:
        sock.close()
    return answer.split(b"\r\n", 1)[0], time.monotonic() - started


class Smoke:
    def __init__(self, args) -> None:
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="counsel-smoke-"))
        self.processes: dict[str, subprocess.Popen] = {}
        self.port = free_port()
        self.stream_port = free_port()
        self.database = f"counsel_smoke_{os.getpid()}"
        self.env = {
            "PATH": f"{self.work / 'venv' / 'bin'}:{os.environ.get('PATH', '')}",
            "HOME": os.environ.get("HOME", str(self.work)),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            # docs/operations.md: the environment of production.
            "DJANGO_SETTINGS_MODULE": "counsel_center.settings",
            "DATABASE_URL": f"{args.postgres}/{self.database}",
            "REDIS_URL": args.redis,
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DEBUG": "0",
            "ALLOWED_HOSTS": HOST,
            "CSRF_TRUSTED_ORIGINS": f"https://{HOST}:{self.port}",
            "BEHIND_TLS_PROXY": "1",
            "SECURE_SSL_REDIRECT": "1",
            "SECURE_HSTS_SECONDS": "31536000",
            "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
            "SECURE_HSTS_PRELOAD": "1",
            "VAR_DIR": str(self.work / "var"),
            "MEDIA_ROOT": str(self.work / "media"),
            "FILE_UPLOAD_TEMP_DIR": str(self.work / "var" / "tmp"),
            "PUBLIC_URL": f"https://{HOST}:{self.port}",
            # Short periods so that the smoke takes a minute, not ten.
            "IDLE_SWEEP_SECONDS": "5",
        }

    @property
    def python(self) -> str:
        return str(self.work / "venv" / "bin" / "python")

    def run(self, *command: str, capture: bool = False) -> str:
        done = subprocess.run(command, cwd=ROOT, env=self.env, capture_output=True, text=True, check=False)  # noqa: S603
        if done.returncode != 0:
            raise SmokeFailure(f"{shlex.join(command)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done.stdout if capture else ""

    def manage(self, *args: str) -> str:
        return self.run(self.python, "manage.py", *args, capture=True)

    def django(self, code: str) -> str:
        return self.manage("shell", "--no-imports", "-c", code).strip()

    # --- steps ---------------------------------------------------------------------------------------

    def install(self) -> None:
        step("a fresh virtual environment with requirements.txt alone")
        started = time.monotonic()
        venv.create(self.work / "venv", with_pip=True)
        self.run(
            self.python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", "requirements.txt"
        )
        print(f"    installed in {time.monotonic() - started:.0f} s", flush=True)

    def prepare(self) -> None:
        step("database, migrate, collectstatic, check --deploy, accounts")
        admin = self.args.postgres + "/postgres"
        self.run(self.python, "-c", f"import psycopg; psycopg.connect({admin!r}, autocommit=True)"
                 f".execute('CREATE DATABASE {self.database}')")  # fmt: skip
        # The worker must not find tasks of an earlier, interrupted run in this Redis database.
        self.run(self.python, "-c", f"import redis; redis.Redis.from_url({self.args.redis!r}).flushdb()")
        self.manage("migrate", "--no-input", "-v0")
        self.manage("collectstatic", "--no-input", "-v0")
        self.manage("check", "--deploy", "--fail-level", "WARNING")  # clean, as the docs promise
        self.secret = secrets.token_hex(16)
        self.django(
            "from django.contrib.auth.models import User\n"
            "from counsel_center.models import Center, Member\n"
            f"center = Center.objects.create(slug='smoke', name='Smoke', webhook_secret={self.secret!r},"
            f" outbound_url={self.receiver.url!r}, idle_close_minutes=1)\n"
            "user = User.objects.create_user('agent', password='smoke-agent-pass-1')\n"
            "Member.objects.create(center=center, user=user, role=Member.Role.AGENT, display_name='Agent')\n"
        )

    def start(self) -> None:
        step("web, stream, worker and beat, as docs/operations.md runs them")
        schedule = self.work / "celerybeat-schedule"
        for name, command in documented_processes(self.port, self.stream_port, schedule).items():
            log = (self.work / f"{name}.log").open("w")
            self.processes[name] = subprocess.Popen(  # noqa: S603
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        site = Site(self.port)

        def answers():
            self.alive()
            try:
                return site.request("GET", "/login/")[0] == 200
            except OSError:
                return False

        wait_for("the web server answers", answers, timeout=60, interval=0.5)

        def stream_answers():
            self.alive()
            try:  # without a session the stream is refused: the server is up
                return Site(self.stream_port).request("GET", "/events/stream")[0] == 401
            except OSError:
                return False

        wait_for("the stream server answers", stream_answers, timeout=60, interval=0.5)
        wait_for("the worker is ready", lambda: self.alive() or "ready." in self.log("worker"), timeout=60)
        wait_for("beat is running", lambda: self.alive() or "beat: Starting" in self.log("beat"), timeout=60)

    def alive(self) -> bool:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise SmokeFailure(f"{name} exited with {process.returncode}")
        return False

    def log(self, name: str) -> str:
        path = self.work / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def use(self) -> None:
        step("a customer writes, an agent answers, the receiver gets it once, beat closes it when idle")
        event = {
            "event_id": f"smoke-{secrets.token_hex(4)}",
            "type": "message",
            "user_key": "smoke-customer",
            "profile_nickname": "스모크",
            "is_friend": True,
            "message": {"kind": "text", "text": "주문 확인 부탁드려요"},
        }
        body = json.dumps(event, ensure_ascii=False).encode()
        site = Site(self.port)
        status, _, answer = site.request(
            "POST", "/channel/smoke/events", body, {"Content-Type": "application/json", **signed(self.secret, body)}
        )
        check(status == 200, f"the webhook answered {status}: {answer[:300]!r}")
        consultation = json.loads(answer)["consultation_id"]

        site.request("GET", "/login/")
        status, _, _ = site.form("/login/", {"username": "agent", "password": "smoke-agent-pass-1"})
        check(status == 302, f"login answered {status}")
        hx = {"HX-Request": "true"}
        status, _, page = site.form(f"/consultations/{consultation}/assign-to-me", {}, hx)
        check(status == 200, f"assign to me answered {status}: {page[:300]!r}")
        status, _, page = site.form(f"/consultations/{consultation}/messages", {"text": "확인해 드릴게요"}, hx)
        check(status == 200 and "확인해 드릴게요" in page.decode(), f"sending answered {status}: {page[:300]!r}")
        sent_at = time.monotonic()

        delivered = wait_for("the receiver gets the agent's message", lambda: self.receiver.requests, timeout=30)
        request = delivered[0]
        expected = signed_check(self.secret, request)
        check(expected, "the delivery is signed with the center's secret")
        message_id = str(request.json["message_id"])
        check(request.headers.get("Idempotency-Key") == message_id, "the delivery carries the idempotency key")
        check(request.json["message"]["text"] == "확인해 드릴게요", f"delivered: {request.json}")
        check(request.json["consultation_id"] == consultation, "the delivery names the consultation")

        def closed() -> str:
            self.alive()
            code = (
                "from consultations.models import Consultation\n"
                f"c = Consultation.objects.get(public_id={consultation!r})\n"
                "print(c.status, c.close_reason)"
            )
            state = self.django(code)
            return state if state.startswith("closed") else ""

        state = wait_for(
            "beat's idle sweep closes the consultation", closed, timeout=IDLE_CLOSE_BOUND_SECONDS, interval=3
        )
        print(f"    closed by beat after {time.monotonic() - sent_at:.0f} s ({state})", flush=True)
        check(len(self.receiver.requests) == 1, f"the receiver got {len(self.receiver.requests)} deliveries, not 1")
        check(
            self.django(
                "from consultations.models import Message\n"
                "print(Message.objects.get(text='확인해 드릴게요').delivery_state)"
            )
            == "sent",
            "the message shows as sent",
        )

    def files(self) -> None:
        step("a customer sends an image (the worker makes its thumbnail), an agent sends a PDF the channel fetches")
        image = tiny_png()
        event = {
            "event_id": f"smoke-file-{secrets.token_hex(4)}",
            "type": "message",
            "user_key": "smoke-file-customer",
            "message": {
                "kind": "image",
                "file": {"name": "사진.png", "size": len(image), "sha256": hashlib.sha256(image).hexdigest()},
            },
        }
        event_text = json.dumps(event, ensure_ascii=False)
        site = Site(self.port)
        status, _, answer = site.multipart(
            "/channel/smoke/events", {"event": event_text}, ("file", "사진.png", image),
            signed(self.secret, event_text.encode()),
        )  # fmt: skip
        check(status == 200, f"the webhook answered {status}: {answer[:300]!r}")
        consultation = json.loads(answer)["consultation_id"]

        def thumbnail() -> str:
            self.alive()
            code = (
                "from consultations.models import Attachment\n"
                "a = Attachment.objects.get(name='사진.png')\n"
                "print(a.message.kind, a.thumbnail.name)"
            )
            state = self.django(code)
            return state if "thumbnails/" in state else ""

        wait_for("the worker makes the image's thumbnail", thumbnail, timeout=30, interval=1)

        site.request("GET", "/login/")
        site.form("/login/", {"username": "agent", "password": "smoke-agent-pass-1"})
        hx = {"HX-Request": "true"}
        site.form(f"/consultations/{consultation}/assign-to-me", {}, hx)
        pdf = b"%PDF-1.4\n%smoke\n%%EOF\n"
        status, _, page = site.multipart(
            f"/consultations/{consultation}/messages", {"text": "안내문입니다"}, ("file", "안내문.pdf", pdf), hx
        )
        check(status == 200 and "안내문.pdf" in page.decode(), f"sending a file answered {status}: {page[:300]!r}")
        delivered = wait_for(
            "the receiver gets the agent's file",
            lambda: [r for r in self.receiver.requests if (r.json["message"].get("file") or {}).get("name")],
            timeout=30,
        )
        described = delivered[0].json["message"]["file"]
        check(described["sha256"] == hashlib.sha256(pdf).hexdigest(), f"delivered: {described}")
        prefix = f"https://{HOST}:{self.port}"
        check(described["url"].startswith(prefix + "/channel/smoke/files/"), f"the link: {described['url']}")
        status, headers, content = Site(self.port).request("GET", described["url"].removeprefix(prefix))
        check(status == 200 and content == pdf, f"fetching the link without a session answered {status}")
        check(headers.get("Content-Disposition", "").startswith("attachment;"), "the link serves an attachment")
        self.receiver.requests.clear()

    def stream(self) -> None:
        step("the agent's live-update stream, on the stream process, carries the next customer message")
        site = Site(self.port)
        site.request("GET", "/login/")
        site.form("/login/", {"username": "agent", "password": "smoke-agent-pass-1"})
        cookie = "; ".join(f"{k}={v}" for k, v in site.cookies.items())
        request = (
            f"GET /events/stream HTTP/1.1\r\nHost: {HOST}:{self.port}\r\nX-Forwarded-Proto: https\r\n"
            f"Accept: text/event-stream\r\nCookie: {cookie}\r\n\r\n"
        )
        with socket.create_connection((HOST, self.stream_port), timeout=15) as sock:
            sock.sendall(request.encode())
            received = b""
            while b"\r\n\r\n" not in received:
                received += sock.recv(4096) or b"(closed)"
                check(not received.endswith(b"(closed)"), f"the stream closed: {received[:200]!r}")
            head = received.split(b"\r\n\r\n", 1)[0].decode(errors="replace")
            check(head.startswith("HTTP/1.1 200") and "text/event-stream" in head, f"the stream answered {head!r}")
            event = {
                "event_id": f"smoke-live-{secrets.token_hex(4)}",
                "type": "message",
                "user_key": "smoke-live-customer",
                "message": {"kind": "text", "text": "실시간 확인"},
            }
            body = json.dumps(event, ensure_ascii=False).encode()
            status, _, answer = site.request(
                "POST", "/channel/smoke/events", body, {"Content-Type": "application/json", **signed(self.secret, body)}
            )
            check(status == 200, f"the webhook answered {status}: {answer[:300]!r}")
            # Seconds, not milliseconds, are allowed: a stream waits for every older transaction of the
            # PostgreSQL cluster to end (docs/operations.md, "Long transactions"), and this one may be shared.
            deadline = time.monotonic() + 30
            while b"message.created" not in received and time.monotonic() < deadline:
                received += sock.recv(4096)
            check(b"message.created" in received, f"no message.created on the stream: {received[-300:]!r}")

    def big_body(self) -> None:
        step("an unsigned 1 GiB POST to the webhook")
        line, seconds = first_status_line(
            self.port,
            "/channel/smoke/events",
            1024**3,
            {"Content-Type": "application/json", "X-Forwarded-Proto": "https"},
        )  # as through the TLS proxy: over plain HTTP SecurityMiddleware would redirect first
        print(f"    {line.decode(errors='replace')} after {seconds * 1000:.0f} ms", flush=True)
        check(line.split(b" ")[1:2] == [b"413"], f"answered {line!r}")
        check(seconds < 1.0, f"answered after {seconds:.2f} s")

    # --- the whole run -----------------------------------------------------------------------------

    def __call__(self) -> int:
        try:
            self.install()
            with running_receiver() as self.receiver:
                self.prepare()
                self.start()
                self.use()
                self.files()
                self.stream()
                self.big_body()
        except SmokeFailure as failure:
            print(f"\nSMOKE FAILED: {failure}\n", file=sys.stderr)
            for name in ("web", "stream", "worker", "beat"):
                print(f"===== {name} log (last 60 lines) =====\n" + "\n".join(self.log(name).splitlines()[-60:]))
            return 1
        finally:
            self.stop()
        print("smoke: production set-up works", flush=True)
        return 0

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        if (self.work / "venv").exists():
            admin = self.args.postgres + "/postgres"
            subprocess.run(  # noqa: S603
                [self.python, "-c", f"import psycopg; psycopg.connect({admin!r}, autocommit=True)"
                 f".execute('DROP DATABASE IF EXISTS {self.database} WITH (FORCE)')"],
                check=False, capture_output=True,
            )  # fmt: skip
        shutil.rmtree(self.work, ignore_errors=True)


def tiny_png() -> bytes:
    """A real 2×2 red PNG, made with the standard library (this script runs outside the venv)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def signed_check(secret: str, request) -> bool:
    timestamp = request.headers.get("X-Channel-Timestamp", "")
    given = request.headers.get("X-Channel-Signature", "")
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(given, f"sha256={mac}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432", help="server URL, no database")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/3", help="a Redis database the smoke may use")
    return Smoke(parser.parse_args())()


if __name__ == "__main__":
    sys.exit(main())
