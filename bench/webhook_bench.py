"""Load test of the channel webhook, against a bare Django view on the same machine (see bench/README.md).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/counsel_bench .venv/bin/python bench/webhook_bench.py

What it does, in order:

1. creates the database of DATABASE_URL and a second one, `<name>_bare`, on
   the same PostgreSQL server if they are missing, migrates both, and adds a
   center of its own (a new slug per run, so runs never mix);
2. starts the product and the bare baseline (bench/bare/) the way production
   runs the product's web processes: gunicorn with 2 `gthread` workers of 4
   threads (`--server asgi`: uvicorn workers instead), DEBUG off, a psycopg
   pool of 8 per worker, on 127.0.0.1 only;
3. for each in turn: a warm-up, then `--seconds` of signed text events from
   `--concurrency` threads, each on one keep-alive connection;
4. reports events/s, p50/p95/p99 latency and the throughput ratio
   webhook / bare (goal: at least 33 %, issue 17);
5. checks that nothing was lost or duplicated: every event id answered 200 has
   exactly one ChannelEvent row and exactly one Message;
6. stops both servers, whatever happened.

Every request goes to 127.0.0.1, every loop is bounded in time and count, and
the database must be on this machine too. Exit status 1 if an event was lost or
duplicated, or nothing was accepted; the ratio is reported, not enforced.
"""

from __future__ import annotations

import argparse
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
BARE_DIR = ROOT / "bench" / "bare"
HOST = "127.0.0.1"  # the only address this script sends to
LOOPBACK_DB_HOSTS = {"127.0.0.1", "localhost", "::1", ""}  # "" is a Unix socket
SECRET = "bench-webhook-secret"  # noqa: S105 (the bench center's own, made per run)
GOAL_RATIO = 0.33
MAX_REQUESTS_PER_THREAD = 1_000_000  # a bound besides time
SERVER_START_SECONDS = 60
SERVER_STOP_SECONDS = 10


# --- database ------------------------------------------------------------------------------------


def bare_database_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return parts._replace(path=parts.path.rstrip("/") + "_bare").geturl()


def ensure_database(url: str) -> None:
    """Create the database named in `url` on its server if it is missing."""
    import psycopg
    from psycopg import sql

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")


def check_database_url(url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        sys.exit(f"DATABASE_URL must be a PostgreSQL URL (postgres://…), not {parts.scheme}://")
    if (parts.hostname or "") not in LOOPBACK_DB_HOSTS:
        sys.exit(f"DATABASE_URL must point at this machine (127.0.0.1, localhost, ::1), not {parts.hostname}")
    if not parts.path.strip("/"):
        sys.exit("DATABASE_URL must name a database, e.g. postgres://postgres@127.0.0.1:5432/counsel_bench")


# --- processes -------------------------------------------------------------------------------------


def run(command: list[str], *, env: dict[str, str], cwd: Path = ROOT, timeout: float = 300) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{done.stdout}\n{done.stderr}")
    return done.stdout


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex((HOST, port)) != 0


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log_path: Path


SERVER_KINDS = {
    # production's web processes (docs/operations.md): WSGI, 4 long-lived threads per worker
    "wsgi": ["--worker-class", "gthread", "--threads", "4"],
    # for comparison: ASGI (production's stream processes), sync views in a thread per request
    "asgi": ["--worker-class", "uvicorn.workers.UvicornWorker"],
}


def start_server(
    name: str, module: str, *, kind: str, port: int, workers: int, env: dict[str, str], cwd: Path, log_dir: Path
) -> Server:
    """gunicorn on 127.0.0.1:`port`, in its own process group (so it can be stopped whole)."""
    if not port_is_free(port):
        sys.exit(f"port {port} is in use; pick another with --port/--bare-port")
    log_path = log_dir / f"{name}.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        f"{module}.{kind}:application",
        *SERVER_KINDS[kind],
        "--workers",
        str(workers),
        "--bind",
        f"{HOST}:{port}",
        "--log-level",
        "warning",
        "--graceful-timeout",
        "5",
    ]
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Server(name=name, port=port, process=process, log_path=log_path)


def wait_until_up(server: Server, path: str) -> None:
    """Until a GET of `path` is answered (any status) by every worker's shared socket; bounded."""
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            sys.exit(f"{server.name} exited with {server.process.returncode}; see {server.log_path}")
        try:
            connection = http.client.HTTPConnection(HOST, server.port, timeout=2)
            connection.request("GET", path)
            connection.getresponse().read()
            connection.close()
            return
        except OSError:
            time.sleep(0.25)
    sys.exit(f"{server.name} did not answer within {SERVER_START_SECONDS} s; see {server.log_path}")


def stop_server(server: Server) -> None:
    """SIGTERM to the server's process group, SIGKILL if it is still there after a while."""
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


# --- load ------------------------------------------------------------------------------------------


@dataclass
class Tally:
    """What one thread saw. `accepted` lists every event id answered 200, warm-up included."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    accepted: list[str] = field(default_factory=list)


@dataclass
class Result:
    name: str
    seconds: float
    tallies: list[Tally]
    peak_connections: int = 0
    worker_cpu: dict[int, float] = field(default_factory=dict)  # CPU seconds per worker in the measured window

    @property
    def cpu_ms_per_event(self) -> float:
        return sum(self.worker_cpu.values()) / self.measured_ok * 1000 if self.measured_ok else float("nan")

    @property
    def worker_shares(self) -> list[float]:
        total = sum(self.worker_cpu.values())
        return sorted((cpu / total for cpu in self.worker_cpu.values()), reverse=True) if total else []

    @property
    def latencies(self) -> list[float]:
        return [latency for tally in self.tallies for latency in tally.latencies]

    @property
    def measured_ok(self) -> int:
        return sum(tally.statuses[200] for tally in self.tallies)

    @property
    def per_second(self) -> float:
        return self.measured_ok / self.seconds

    def percentile(self, p: int) -> float:
        latencies = self.latencies
        if len(latencies) < 2:
            return float("nan")
        return statistics.quantiles(latencies, n=100, method="inclusive")[p - 1] * 1000

    @property
    def other_statuses(self) -> dict:
        return {status: n for tally in self.tallies for status, n in tally.statuses.items() if status != 200}

    @property
    def errors(self) -> dict:
        total: Counter = Counter()
        for tally in self.tallies:
            total.update(tally.errors)
        return dict(total)

    @property
    def accepted(self) -> list[str]:
        return [event_id for tally in self.tallies for event_id in tally.accepted]


def event_body(run_id: str, thread: int, n: int, customers: int) -> tuple[str, bytes]:
    event_id = f"{run_id}-{thread}-{n}"
    event = {
        "event_id": event_id,
        "type": "message",
        "user_key": f"bench-{run_id}-{(thread * 7919 + n) % customers}",
        "profile_nickname": "부하테스트",
        "is_friend": True,
        "message": {"kind": "text", "text": f"배송 문의드립니다 ({n})"},
    }
    return event_id, json.dumps(event, ensure_ascii=False).encode()


def signed_headers(body: bytes) -> dict[str, str]:
    timestamp = str(int(time.time()))
    mac = hmac.new(SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Channel-Timestamp": timestamp,
        "X-Channel-Signature": f"sha256={mac}",
    }


def client_thread(
    tally: Tally,
    *,
    port: int,
    path: str,
    run_id: str,
    thread: int,
    customers: int,
    measure_from: float,
    until: float,
    per_connection: int,
) -> None:
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        for n in range(MAX_REQUESTS_PER_THREAD):
            started = time.monotonic()
            if started >= until:
                break
            if n and n % per_connection == 0:
                # A fresh connection now and then, as a channel's client pool does: with keep-alive
                # for ever, whichever worker accepted the first burst of connects serves the whole
                # run while the other idles, and the figures measure that luck instead of the server.
                connection.close()
                connection = http.client.HTTPConnection(HOST, port, timeout=30)
            event_id, body = event_body(run_id, thread, n, customers)
            try:
                connection.request("POST", path, body=body, headers=signed_headers(body))
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException) as error:
                tally.errors[type(error).__name__] += 1
                connection.close()
                connection = http.client.HTTPConnection(HOST, port, timeout=30)
                continue
            if response.status == 200:
                tally.accepted.append(event_id)
            if started >= measure_from:
                tally.statuses[response.status] += 1
                tally.latencies.append(time.monotonic() - started)
    finally:
        connection.close()


def worker_cpu_seconds(master_pid: int) -> dict[int, float]:
    """CPU seconds (user + system) used so far by each worker process of a gunicorn master."""
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = {}
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    for pid in map(int, children):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a worker that just exited
        seconds[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return seconds


def sample_cpu_at(moment: float, master_pid: int, into: dict) -> threading.Thread:
    """Sample the workers' CPU time at `moment` (time.monotonic()) in a background thread."""

    def sample() -> None:
        time.sleep(max(0.0, moment - time.monotonic()))
        into.update(worker_cpu_seconds(master_pid))

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    return thread


def load(
    name: str,
    *,
    port: int,
    path: str,
    run_id: str,
    args: argparse.Namespace,
    warmup: float,
    seconds: float,
    round_number: int = 0,
    master_pid: int | None = None,
) -> Result:
    measure_from = time.monotonic() + warmup
    until = measure_from + seconds
    cpu_before: dict[int, float] = {}
    cpu_after: dict[int, float] = {}
    samplers = []
    if master_pid is not None:
        samplers = [sample_cpu_at(measure_from, master_pid, cpu_before), sample_cpu_at(until, master_pid, cpu_after)]
    tallies = [Tally() for _ in range(args.concurrency)]
    threads = [
        threading.Thread(
            target=client_thread,
            args=(tallies[i],),
            kwargs={
                "port": port,
                "path": path,
                "run_id": f"{run_id}-{name}-{round_number}",
                "thread": i,
                "customers": args.customers,
                "measure_from": measure_from,
                "until": until,
                "per_connection": args.per_connection,
            },
            daemon=True,
        )
        for i in range(args.concurrency)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=warmup + seconds + 60)
    for sampler in samplers:
        sampler.join(timeout=5)
    worker_cpu = {pid: cpu_after[pid] - cpu_before.get(pid, 0.0) for pid in cpu_after}
    return Result(name=name, seconds=seconds, tallies=tallies, worker_cpu=worker_cpu)


class ConnectionWatch:
    """Samples how many connections the server holds to its database, twice a second, while the load runs."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self.name = urllib.parse.urlsplit(database_url).path.lstrip("/")
        self.peak = 0
        self.limit = 0  # the server's max_connections
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True, connect_timeout=10) as connection:
            self.limit = int(connection.execute("SHOW max_connections").fetchone()[0])
            # bounded: the load itself is bounded and stop() is called in a finally
            for _ in range(int(3600 / 0.5)):
                if self._stop.wait(0.5):
                    break
                row = connection.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                    (self.name,),
                ).fetchone()
                self.peak = max(self.peak, row[0])

    def __enter__(self) -> ConnectionWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@dataclass
class Target:
    name: str
    module: str
    path: str
    port: int
    env: dict[str, str]
    cwd: Path


def merge(results: list[Result]) -> Result:
    """One result from a target's rounds: their requests, seconds and CPU added up."""
    worker_cpu: Counter = Counter()
    for result in results:
        worker_cpu.update(result.worker_cpu)
    return Result(
        name=results[0].name,
        seconds=sum(result.seconds for result in results),
        tallies=[tally for result in results for tally in result.tallies],
        peak_connections=max(result.peak_connections for result in results),
        worker_cpu=dict(worker_cpu),
    )


def bench_targets(targets: list[Target], *, work: Path, run_id: str, args: argparse.Namespace) -> list[Result]:
    """Start every server, load them in turn for `args.rounds` rounds, stop them (always).

    Alternating short loads instead of one long load each spreads any change in
    the machine's background load over both targets alike.
    """
    servers = []
    rounds: dict[str, list[Result]] = {target.name: [] for target in targets}
    try:
        for target in targets:
            servers.append(
                start_server(
                    target.name,
                    target.module,
                    kind=args.server,
                    port=target.port,
                    env=target.env,
                    cwd=target.cwd,
                    log_dir=work,
                    workers=args.workers,
                )
            )
        for target, server in zip(targets, servers, strict=True):
            wait_until_up(server, target.path)
        for number in range(args.rounds):
            for target, server in zip(targets, servers, strict=True):
                with ConnectionWatch(target.env["DATABASE_URL"]) as watch:
                    result = load(
                        target.name,
                        port=target.port,
                        path=target.path,
                        run_id=run_id,
                        round_number=number,
                        args=args,
                        warmup=args.warmup if number == 0 else 1.0,
                        seconds=args.seconds / args.rounds,
                        master_pid=server.process.pid,
                    )
                result.peak_connections = watch.peak
                rounds[target.name].append(result)
                if watch.limit and watch.peak >= 0.8 * watch.limit:
                    print(
                        f"WARNING: {target.name} held up to {watch.peak} of the database's {watch.limit} connections."
                    )
    finally:
        for server in servers:
            stop_server(server)
            log = server.log_path.read_text(errors="replace").strip() if server.log_path.exists() else ""
            if log:
                lines = log.splitlines()
                print(f"--- {server.name} server log: {len(lines)} lines, the last ones ---\n" + "\n".join(lines[-8:]))
    results = [merge(rounds[target.name]) for target in targets]
    for result in results:
        print(describe(result))
    return results


# --- checks ------------------------------------------------------------------------------------------

WEBHOOK_CHECK = """
import json
from django.db.models import Count
from consultations.models import ChannelEvent, Message
accepted = json.load(open({ids_path!r}))
events = dict(
    ChannelEvent.objects.filter(center__slug={slug!r}).order_by().values_list("event_id").annotate(n=Count("id"))
)
messages = dict(
    Message.objects.filter(consultation__center__slug={slug!r}).order_by()
    .values_list("channel_event_id").annotate(n=Count("id"))
)
print(json.dumps({{
    "accepted": len(accepted),
    "events_lost": [i for i in accepted if events.get(i, 0) == 0][:10],
    "events_duplicated": [i for i in accepted if events.get(i, 0) > 1][:10],
    "messages_lost": [i for i in accepted if messages.get(i, 0) == 0][:10],
    "messages_duplicated": [i for i in accepted if messages.get(i, 0) > 1][:10],
    "events_lost_count": sum(1 for i in accepted if events.get(i, 0) == 0),
    "events_duplicated_count": sum(1 for i in accepted if events.get(i, 0) > 1),
    "messages_lost_count": sum(1 for i in accepted if messages.get(i, 0) == 0),
    "messages_duplicated_count": sum(1 for i in accepted if messages.get(i, 0) > 1),
    "stored_without_200": len(set(events) - set(accepted)),
}}))
"""

BARE_CHECK = """
import json
from baseline.models import Hit
accepted = json.load(open({ids_path!r}))
stored = set(Hit.objects.filter(event_id__startswith={prefix!r}).values_list("event_id", flat=True))
print(json.dumps({{"accepted": len(accepted), "lost_count": len(set(accepted) - stored)}}))
"""


def check_webhook(result: Result, *, slug: str, env: dict[str, str], work: Path) -> dict:
    ids_path = work / "webhook-accepted.json"
    ids_path.write_text(json.dumps(result.accepted))
    code = WEBHOOK_CHECK.format(ids_path=str(ids_path), slug=slug)
    return json.loads(run([sys.executable, "manage.py", "shell", "-c", code], env=env).strip().splitlines()[-1])


def check_bare(result: Result, *, prefix: str, env: dict[str, str], work: Path) -> dict:
    ids_path = work / "bare-accepted.json"
    ids_path.write_text(json.dumps(result.accepted))
    code = BARE_CHECK.format(ids_path=str(ids_path), prefix=prefix)
    output = run([sys.executable, "-m", "django", "shell", "-c", code], env=env, cwd=BARE_DIR)
    return json.loads(output.strip().splitlines()[-1])


# --- main ------------------------------------------------------------------------------------------


# Each server process keeps a psycopg pool of at most this many connections
# (DB_POOL_MAX_SIZE; 0 turns the pool off and CONN_MAX_AGE applies instead).
POOL_MAX_SIZE = int(os.environ.get("BENCH_POOL_MAX_SIZE", "8"))


def server_env(
    database_url: str, var_dir: Path, *, conn_max_age: int, settings_module: str | None = None
) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(
        DATABASE_URL=database_url,
        DEBUG="0",
        CONN_MAX_AGE=str(conn_max_age),
        DB_POOL_MAX_SIZE=str(POOL_MAX_SIZE),
        SECRET_KEY="bench-only-not-secret",  # noqa: S106 (servers that live for one run)
        ALLOWED_HOSTS="127.0.0.1,localhost",
        VAR_DIR=str(var_dir),
        LOG_LEVEL="WARNING",
        PYTHONWARNINGS="ignore::DeprecationWarning",  # uvicorn.workers announces its successor package
    )
    if settings_module:
        env["DJANGO_SETTINGS_MODULE"] = settings_module
        env["PYTHONPATH"] = str(BARE_DIR)
    return env


def describe(result: Result) -> str:
    return (
        f"{result.name:<8} {result.measured_ok:>7} events in {result.seconds:g} s = {result.per_second:8.1f} events/s"
        f"   p50 {result.percentile(50):6.1f} ms   p95 {result.percentile(95):6.1f} ms"
        f"   p99 {result.percentile(99):6.1f} ms"
        + (f"   other statuses {result.other_statuses}" if result.other_statuses else "")
        + (f"   client errors {result.errors}" if result.errors else "")
        + f"   peak DB connections {result.peak_connections}"
        + f"\n{'':<8} server CPU {result.cpu_ms_per_event:.2f} ms per event"
        + f" (workers' shares {', '.join(f'{share:.0%}' for share in result.worker_shares)})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20, help="measured seconds per target (default 20)")
    parser.add_argument("--warmup", type=float, default=3, help="unmeasured seconds first (default 3)")
    parser.add_argument(
        "--rounds", type=int, default=4, help="alternate the targets this many times, --seconds split evenly (4)"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (default 2)")
    parser.add_argument("--customers", type=int, default=1000, help="distinct customers the events come from")
    parser.add_argument("--port", type=int, default=8781, help="port of the product (default 8781)")
    parser.add_argument("--bare-port", type=int, default=8782, help="port of the bare baseline (default 8782)")
    parser.add_argument(
        "--server", choices=sorted(SERVER_KINDS), default="wsgi", help="default: wsgi, as production's web processes"
    )
    parser.add_argument("--conn-max-age", type=int, default=60, help="CONN_MAX_AGE of both servers (default 60)")
    parser.add_argument(
        "--per-connection", type=int, default=25, help="requests per keep-alive connection before a new one (25)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if not 0 < args.seconds <= 600 or not 0 <= args.warmup <= 60 or not 1 <= args.concurrency <= 64:
        parser.error("keep --seconds in (0, 600], --warmup in [0, 60] and --concurrency in [1, 64]")

    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url:
        sys.exit("DATABASE_URL is required, e.g. postgres://postgres@127.0.0.1:5432/counsel_bench")
    check_database_url(database_url)
    bare_url = bare_database_url(database_url)
    run_id = time.strftime("%Y%m%d%H%M%S")
    slug = f"bench-{run_id}"

    with tempfile.TemporaryDirectory(prefix="webhook-bench-") as tmp:
        work = Path(tmp)
        app_env = server_env(database_url, work / "var", conn_max_age=args.conn_max_age)
        bare_env = server_env(
            bare_url, work / "var-bare", conn_max_age=args.conn_max_age, settings_module="baseline.settings"
        )

        names = [urllib.parse.urlsplit(url).path[1:] for url in (database_url, bare_url)]
        print(f"preparing databases {names[0]} and {names[1]}")
        ensure_database(database_url)
        ensure_database(bare_url)
        run([sys.executable, "manage.py", "migrate", "--no-input", "-v0"], env=app_env)
        bare_migrate = [sys.executable, "-m", "django", "migrate", "--run-syncdb", "--no-input", "-v0"]
        run(bare_migrate, env=bare_env, cwd=BARE_DIR)
        run(
            [
                sys.executable,
                "manage.py",
                "shell",
                "-c",
                "from counsel_center.models import Center; "
                f"Center.objects.create(slug={slug!r}, name='부하 테스트 센터', webhook_secret={SECRET!r})",
            ],
            env=app_env,
        )

        print(
            f"gunicorn --workers {args.workers} ({args.server}), pool max {POOL_MAX_SIZE} per worker "
            f"(CONN_MAX_AGE={args.conn_max_age} when the pool is off); "
            f"{args.concurrency} client threads; {args.warmup:g} s warm-up, then {args.seconds:g} s measured "
            f"per target in {args.rounds} alternating rounds"
        )
        webhook, bare = bench_targets(
            [
                Target("webhook", "counsel_center", f"/channel/{slug}/events", args.port, app_env, ROOT),
                Target("bare", "baseline", "/hit", args.bare_port, bare_env, BARE_DIR),
            ],
            work=work,
            run_id=run_id,
            args=args,
        )

        webhook_check = check_webhook(webhook, slug=slug, env=app_env, work=work)
        bare_check = check_bare(bare, prefix=f"{run_id}-bare-", env=bare_env, work=work)

    ratio = webhook.per_second / bare.per_second if bare.per_second else float("nan")
    verdict = "meets" if ratio >= GOAL_RATIO else "BELOW"
    print(f"ratio    webhook / bare = {ratio:.0%} ({verdict} the {GOAL_RATIO:.0%} goal)")
    print(
        f"check    {webhook_check['accepted']} webhook events answered 200: "
        f"ChannelEvent lost {webhook_check['events_lost_count']}, "
        f"duplicated {webhook_check['events_duplicated_count']}; "
        f"Message lost {webhook_check['messages_lost_count']}, "
        f"duplicated {webhook_check['messages_duplicated_count']}; "
        f"stored without a 200 seen {webhook_check['stored_without_200']}"
    )
    print(f"check    {bare_check['accepted']} bare events answered 200: rows lost {bare_check['lost_count']}")
    figures = {
        "run_id": run_id,
        "concurrency": args.concurrency,
        "workers": args.workers,
        "server": args.server,
        "conn_max_age": args.conn_max_age,
        "seconds": args.seconds,
        "webhook": {
            "events_per_second": round(webhook.per_second, 1),
            "p50_ms": round(webhook.percentile(50), 1),
            "p95_ms": round(webhook.percentile(95), 1),
            "p99_ms": round(webhook.percentile(99), 1),
            "other_statuses": webhook.other_statuses,
            "client_errors": webhook.errors,
            "peak_db_connections": webhook.peak_connections,
            "server_cpu_ms_per_event": round(webhook.cpu_ms_per_event, 2),
            "worker_cpu_shares": [round(share, 3) for share in webhook.worker_shares],
        },
        "bare": {
            "events_per_second": round(bare.per_second, 1),
            "p50_ms": round(bare.percentile(50), 1),
            "p95_ms": round(bare.percentile(95), 1),
            "p99_ms": round(bare.percentile(99), 1),
            "other_statuses": bare.other_statuses,
            "client_errors": bare.errors,
            "peak_db_connections": bare.peak_connections,
            "server_cpu_ms_per_event": round(bare.cpu_ms_per_event, 2),
            "worker_cpu_shares": [round(share, 3) for share in bare.worker_shares],
        },
        "ratio": round(ratio, 3),
        "check": {"webhook": webhook_check, "bare": bare_check},
    }
    lost = webhook_check["events_lost_count"] + webhook_check["messages_lost_count"]
    doubled = webhook_check["events_duplicated_count"] + webhook_check["messages_duplicated_count"]
    figures["goals"] = [  # read by bench/run_all.py
        {"goal": f"webhook events/s ≥ {GOAL_RATIO:.0%} of the bare insert", "figure": f"{ratio:.0%}",
         "met": ratio >= GOAL_RATIO},
        {"goal": "0 events lost, 0 doubled", "figure": f"{lost} lost, {doubled} doubled",
         "met": not lost and not doubled},
    ]  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    broken = (
        webhook_check["events_lost_count"]
        + webhook_check["events_duplicated_count"]
        + webhook_check["messages_lost_count"]
        + webhook_check["messages_duplicated_count"]
        + bare_check["lost_count"]
    )
    if broken or not webhook.accepted:
        print("FAILED: events were lost or duplicated, or none was accepted")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
