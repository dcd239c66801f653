"""Live-update benchmark: webhook accepted → event received on SSE clients, and the cost of idle streams.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/counsel_bench REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/live_bench.py

What it does, in order (bench/README.md):

1. creates the database of DATABASE_URL if it is missing, migrates it, and
   adds a center of its own (a new slug per run) with one agent, signed in
   once (the session cookie every client sends);
2. for each mode — "redis" (REDIS_URL set: the doorbell) and "polling"
   (REDIS_URL unset) — starts the product as production runs it, DEBUG off,
   a psycopg pool of 8 per worker, 127.0.0.1 only: the stream processes
   (gunicorn with 2 uvicorn workers) and the web processes (gunicorn with 2
   `gthread` workers), connects `--clients` SSE clients to the first's
   `/events/stream`, posts signed customer messages to the second's webhook
   at `--rate` per second for `--seconds`, and measures for
   every (client, message) the time from the webhook's 200 answer to the
   `message.created` event on that client; checks that every client got every
   message exactly once;
3. for each mode: opens `--idle-streams` streams, and reports the workers'
   memory (RSS) before and after (memory per stream), their threads, and the
   CPU time they use over `--idle-seconds` of silence;
4. stops every server, whatever happened.

Every request goes to 127.0.0.1 and every loop is bounded in time and count.
Exit status 1 if a message was lost or duplicated on a client.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # the only address this script sends to
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", ""}  # "" is a Unix socket
SECRET = "bench-live-secret"  # noqa: S105 (the bench center's own, made per run)
SERVER_START_SECONDS = 60
SERVER_STOP_SECONDS = 10
READ_TIMEOUT_SECONDS = 60  # a client that hears nothing (not even a heartbeat) for this long gives up
POOL_MAX_SIZE = 8
WORKERS = 2
GOALS_MS = {"redis": 100, "polling": 1500}  # p95 goals of the issue


# --- database --------------------------------------------------------------------------------------


def check_url(url: str, schemes: tuple[str, ...], what: str) -> None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in schemes:
        sys.exit(f"{what} must start with {' or '.join(s + '://' for s in schemes)}, not {parts.scheme}://")
    if (parts.hostname or "") not in LOOPBACK_HOSTS:
        sys.exit(f"{what} must point at this machine (127.0.0.1, localhost, ::1), not {parts.hostname}")


def ensure_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")


def run(command: list[str], *, env: dict[str, str], timeout: float = 300) -> str:
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{done.stdout}\n{done.stderr}")
    return done.stdout


SETUP = """
from django.contrib.auth import get_user_model
from django.test import Client
from counsel_center.models import Center, Member
center = Center.objects.create(slug={slug!r}, name="실시간 부하 테스트", webhook_secret={secret!r})
user = get_user_model().objects.create_user({slug!r}, password=None)
Member.objects.create(center=center, user=user, role=Member.Role.AGENT, display_name="bench")
client = Client()
client.force_login(user)
print(client.cookies["sessionid"].value)
"""


# --- servers ---------------------------------------------------------------------------------------


@dataclass
class Server:
    mode: str
    port: int
    process: subprocess.Popen
    log_path: Path

    def workers(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def sample(self) -> dict[str, float]:
        """The workers' RSS (MiB), threads and CPU seconds (user + system), summed."""
        ticks = os.sysconf("SC_CLK_TCK")
        rss = threads = cpu = 0.0
        for pid in self.workers():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1]) / 1024
                    elif line.startswith("Threads:"):
                        threads += int(line.split()[1])
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                cpu += (int(fields[11]) + int(fields[12])) / ticks
        return {"rss_mib": rss, "threads": threads, "cpu_seconds": cpu}


def server_env(database_url: str, redis_url: str, var_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("REDIS_URL", "LIVE_", "DJANGO_"))}
    env.update(
        DATABASE_URL=database_url,
        DEBUG="0",
        CONN_MAX_AGE="0",
        DB_POOL_MAX_SIZE=str(POOL_MAX_SIZE),
        SECRET_KEY="bench-only-not-secret",  # noqa: S106 (servers that live for one run)
        ALLOWED_HOSTS="127.0.0.1,localhost",
        VAR_DIR=str(var_dir),
        LOG_LEVEL="WARNING",
        PYTHONWARNINGS="ignore::DeprecationWarning",  # uvicorn.workers announces its successor package
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def start_server(mode: str, *, port: int, env: dict[str, str], log_dir: Path, web: bool = False) -> Server:
    """gunicorn on 127.0.0.1:`port`, in its own process group: the stream processes (uvicorn workers), or with
    `web` the web processes (gthread workers), as docs/operations.md runs them."""
    with socket.socket() as probe:
        if probe.connect_ex((HOST, port)) == 0:
            sys.exit(f"port {port} is in use; pick another with --port")
    log_path = log_dir / f"{mode}{'-web' if web else ''}.log"
    if web:
        command = [sys.executable, "-m", "gunicorn", "counsel_center.wsgi:application"]
        command += ["--worker-class", "gthread", "--threads", "4", "--workers", str(WORKERS)]
    else:
        command = [sys.executable, "-m", "gunicorn", "counsel_center.asgi:application"]
        command += ["--worker-class", "uvicorn.workers.UvicornWorker", "--workers", str(WORKERS)]
    # Open streams never finish by themselves: a short graceful timeout ends them on stop.
    command += ["--bind", f"{HOST}:{port}", "--log-level", "warning", "--graceful-timeout", "3"]
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(mode=mode, port=port, process=process, log_path=log_path)
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the {mode} server exited with {process.returncode}; see {log_path}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/events/stream")
            conn.getresponse().read()
            conn.close()
            if len(server.workers()) == WORKERS:
                return server
        except OSError:
            pass
        time.sleep(0.25)
    stop_server(server)
    sys.exit(f"the {mode} server did not answer within {SERVER_START_SECONDS} s; see {log_path}")


def stop_server(server: Server) -> None:
    if server.process.poll() is not None:
        return
    try:
        os.killpg(server.process.pid, signal.SIGTERM)
        server.process.wait(timeout=SERVER_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=SERVER_STOP_SECONDS)
    except ProcessLookupError:
        pass


# --- clients ---------------------------------------------------------------------------------------


class StreamClient:
    """One SSE connection, read on a thread of its own: message id → when its message.created arrived."""

    def __init__(self, port: int, cookie: str) -> None:
        self.port = port
        self.cookie = cookie
        self.arrivals: dict[int, float] = {}
        self.duplicates = 0
        self.ready = threading.Event()  # the server has subscribed (or chosen to poll) and read once
        self.failure = ""
        self.conn: http.client.HTTPConnection | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.conn = http.client.HTTPConnection(HOST, self.port, timeout=READ_TIMEOUT_SECONDS)
            self.conn.request("GET", "/events/stream", headers={"Cookie": f"sessionid={self.cookie}"})
            response = self.conn.getresponse()
            if response.status != 200:
                self.failure = f"HTTP {response.status}"
                return
            kind = None
            for _ in range(10**7):  # bounded; ends when the connection closes
                line = response.readline()
                if not line:
                    return
                line = line.rstrip(b"\r\n")
                if line.startswith(b": live "):
                    self.ready.set()
                elif line.startswith(b"event: "):
                    kind = line[7:]
                elif line.startswith(b"data: ") and kind == b"message.created":
                    at = time.monotonic()
                    message = json.loads(line[6:])["message"]
                    if message in self.arrivals:
                        self.duplicates += 1
                    else:
                        self.arrivals[message] = at
                elif not line:
                    kind = None
        except (OSError, ValueError, AttributeError, http.client.HTTPException) as error:
            if not self.failure:
                self.failure = type(error).__name__
        finally:
            self.ready.set()

    def close(self) -> None:
        conn = self.conn
        if conn is not None and conn.sock is not None:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)
        if conn is not None:
            conn.close()
        self.thread.join(timeout=10)


def connect(count: int, port: int, cookie: str, *, timeout: float = 60) -> list[StreamClient]:
    clients = []
    for _ in range(count):
        clients.append(StreamClient(port, cookie))
        time.sleep(0.005)  # a browser fleet does not arrive in one burst either
    deadline = time.monotonic() + timeout
    for client in clients:
        client.ready.wait(max(deadline - time.monotonic(), 0.01))
    failed = [c.failure for c in clients if c.failure or not c.ready.is_set()]
    if failed:
        for client in clients:
            client.close()
        sys.exit(f"{len(failed)} of {count} streams failed to start: {Counter(failed)}")
    return clients


# --- the webhook -----------------------------------------------------------------------------------


def post_messages(port: int, slug: str, *, rate: float, seconds: float, run_id: str) -> dict[int, float]:
    """Signed customer messages at `rate` per second; message id → when the 200 answer was read."""
    answered: dict[int, float] = {}
    statuses: Counter = Counter()
    start = time.monotonic()
    count = int(rate * seconds)
    for n in range(count):
        time.sleep(max(0.0, start + n / rate - time.monotonic()))
        event = {
            "event_id": f"{run_id}-{n}",
            "type": "message",
            "user_key": f"live-bench-{run_id}-{n % 10}",
            "profile_nickname": "부하테스트",
            "is_friend": True,
            "message": {"kind": "text", "text": f"실시간 문의 {n}"},
        }
        body = json.dumps(event, ensure_ascii=False).encode()
        timestamp = str(int(time.time()))
        mac = hmac.new(SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "X-Channel-Timestamp": timestamp,
            "X-Channel-Signature": f"sha256={mac}",
        }
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        try:
            conn.request("POST", f"/channel/{slug}/events", body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            at = time.monotonic()
        except (OSError, http.client.HTTPException) as error:
            statuses[type(error).__name__] += 1
            continue
        finally:
            conn.close()
        statuses[response.status] += 1
        if response.status == 200:
            answered[json.loads(payload)["message_id"]] = at
    if set(statuses) - {200}:
        print(f"  webhook answers: {dict(statuses)}")
    return answered


# --- measurements ----------------------------------------------------------------------------------


@dataclass
class Latency:
    mode: str
    messages: int = 0
    deliveries: int = 0
    lost: int = 0
    duplicated: int = 0
    before_answer: int = 0
    latencies: list[float] = field(default_factory=list)

    def percentile(self, p: int) -> float:
        if len(self.latencies) < 2:
            return float("nan")
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1] * 1000

    def figures(self) -> dict:
        return {
            "messages": self.messages,
            "deliveries": self.deliveries,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "arrived_before_the_answer": self.before_answer,
            "p50_ms": round(self.percentile(50), 1),
            "p95_ms": round(self.percentile(95), 1),
            "max_ms": round(max(self.latencies) * 1000, 1) if self.latencies else None,
        }


def measure_latency(server: Server, web: Server, mode: str, slug: str, cookie: str, run_id: str, args) -> Latency:
    clients = connect(args.clients, server.port, cookie)
    try:
        answered = post_messages(web.port, slug, rate=args.rate, seconds=args.seconds, run_id=f"{run_id}-{mode}")
        # the last messages' events, then nothing more for a moment
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(len(c.arrivals) < len(answered) for c in clients):
            time.sleep(0.1)
    finally:
        for client in clients:
            client.close()
    result = Latency(mode=mode, messages=len(answered))
    for client in clients:
        result.duplicated += client.duplicates
        for message, answered_at in answered.items():
            arrived = client.arrivals.get(message)
            if arrived is None:
                result.lost += 1
                continue
            result.deliveries += 1
            # A ring can beat the webhook's own answer to the client: that counts as 0 ms.
            if arrived < answered_at:
                result.before_answer += 1
            result.latencies.append(max(arrived - answered_at, 0.0))
    return result


def measure_idle(server: Server, cookie: str, database_url: str, args) -> dict:
    time.sleep(1)
    before = server.sample()
    connections_before = db_connections(database_url)
    clients = connect(args.idle_streams, server.port, cookie, timeout=120)
    try:
        time.sleep(3)  # first reads done, allocations settled
        opened = server.sample()
        time.sleep(args.idle_seconds)
        after = server.sample()
        connections_with_streams = db_connections(database_url)
    finally:
        for client in clients:
            client.close()
    cpu = after["cpu_seconds"] - opened["cpu_seconds"]
    return {
        "streams": args.idle_streams,
        "rss_before_mib": round(before["rss_mib"], 1),
        "rss_with_streams_mib": round(opened["rss_mib"], 1),
        "kib_per_stream": round((opened["rss_mib"] - before["rss_mib"]) * 1024 / args.idle_streams, 1),
        "threads_before": int(before["threads"]),
        "threads_with_streams": int(opened["threads"]),
        "idle_seconds": args.idle_seconds,
        "idle_cpu_seconds": round(cpu, 2),
        "idle_cpu_percent_of_a_core": round(100 * cpu / args.idle_seconds, 1),
        "db_connections_before": connections_before,
        "db_connections_with_streams": connections_with_streams,
    }


def db_connections(database_url: str) -> int:
    import psycopg

    name = urllib.parse.urlsplit(database_url).path.lstrip("/")
    with psycopg.connect(database_url, autocommit=True, connect_timeout=10) as connection:
        return connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (name,)
        ).fetchone()[0]


# --- main ------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20, help="SSE clients during the latency run (default 20)")
    parser.add_argument("--rate", type=float, default=5, help="webhook messages per second (default 5)")
    parser.add_argument("--seconds", type=float, default=15, help="seconds of messages per mode (default 15)")
    parser.add_argument("--idle-streams", type=int, default=200, help="streams of the idle run (default 200)")
    parser.add_argument("--idle-seconds", type=float, default=20, help="seconds of silence measured (default 20)")
    parser.add_argument("--port", type=int, default=8785, help="stream processes port (8785); web: the next")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if not (1 <= args.clients <= 200 and 0 < args.rate <= 50 and 0 < args.seconds <= 120):
        parser.error("keep --clients in [1, 200], --rate in (0, 50] and --seconds in (0, 120]")
    if not (1 <= args.idle_streams <= 1000 and 0 < args.idle_seconds <= 120):
        parser.error("keep --idle-streams in [1, 1000] and --idle-seconds in (0, 120]")

    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url:
        sys.exit("DATABASE_URL is required, e.g. postgres://postgres@127.0.0.1:5432/counsel_bench")
    check_url(database_url, ("postgres", "postgresql"), "DATABASE_URL")
    redis_url = os.environ.get("REDIS_URL", "")
    if redis_url:
        check_url(redis_url, ("redis",), "REDIS_URL")
    modes = [("redis", redis_url)] if redis_url else []
    modes.append(("polling", ""))
    if not redis_url:
        print("REDIS_URL is not set: measuring the polling fallback only")

    run_id = time.strftime("%Y%m%d%H%M%S")
    slug = f"bench-live-{run_id}"
    figures: dict = {"run_id": run_id, "workers": WORKERS, "pool_max_size": POOL_MAX_SIZE, "modes": {}}
    with tempfile.TemporaryDirectory(prefix="live-bench-") as tmp:
        work = Path(tmp)
        setup_env = server_env(database_url, "", work / "var")
        ensure_database(database_url)
        run([sys.executable, "manage.py", "migrate", "--no-input", "-v0"], env=setup_env)
        cookie = run(
            [sys.executable, "manage.py", "shell", "-c", SETUP.format(slug=slug, secret=SECRET)], env=setup_env
        ).split()[-1]
        print(
            f"streams: gunicorn -k uvicorn.workers.UvicornWorker -w {WORKERS}; webhook: gunicorn -k gthread"
            f" -w {WORKERS}; pool max {POOL_MAX_SIZE} per worker; "
            f"{args.clients} clients, {args.rate:g} messages/s for {args.seconds:g} s; "
            f"then {args.idle_streams} idle streams for {args.idle_seconds:g} s"
        )
        for mode, url in modes:
            env = server_env(database_url, url, work / "var")
            server = start_server(mode, port=args.port, env=env, log_dir=work)
            web = start_server(mode, port=args.port + 1, env=env, log_dir=work, web=True)
            try:
                latency = measure_latency(server, web, mode, slug, cookie, run_id, args)
                print(f"{mode:<8} latency: {latency.figures()}")
                idle = measure_idle(server, cookie, database_url, args)
                print(f"{mode:<8} idle:    {idle}")
            finally:
                stop_server(web)
                stop_server(server)
                lines = server.log_path.read_text(errors="replace").splitlines()
                problems = [line for line in lines if "Traceback" in line or "ERROR" in line]
                if problems:
                    print(f"--- {mode} server log: {len(problems)} error lines, e.g. {problems[:3]}")
            figures["modes"][mode] = {"latency": latency.figures(), "idle": idle}

    print()
    print("| mode | deliveries | lost | dup | p50 | p95 | max | p95 goal | idle RSS/stream | idle CPU (20 s) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for mode, data in figures["modes"].items():
        lat, idle = data["latency"], data["idle"]
        print(
            f"| {mode} | {lat['deliveries']} | {lat['lost']} | {lat['duplicated']} | {lat['p50_ms']} ms"
            f" | {lat['p95_ms']} ms | {lat['max_ms']} ms | ≤ {GOALS_MS[mode]} ms"
            f" | {idle['kib_per_stream']} KiB | {idle['idle_cpu_seconds']} s ({idle['idle_cpu_percent_of_a_core']} %) |"
        )
    figures["goals"] = []  # read by bench/run_all.py
    for mode, data in figures["modes"].items():
        lat = data["latency"]
        figures["goals"].append(
            {
                "goal": f"live p95 ≤ {GOALS_MS[mode]} ms ({mode}), nothing lost or repeated",
                "figure": f"{lat['p95_ms']} ms, {lat['lost']} lost, {lat['duplicated']} dup",
                "met": lat["p95_ms"] <= GOALS_MS[mode] and not lat["lost"] and not lat["duplicated"],
            }
        )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    broken = sum(d["latency"]["lost"] + d["latency"]["duplicated"] for d in figures["modes"].values())
    if broken:
        print("FAILED: a client missed or repeated a message")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
