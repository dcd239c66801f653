"""Load test of the console's list and chat pane on a big center, against a bare Django view (see bench/README.md).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/counsel_console_bench .venv/bin/python bench/console_bench.py

The database must hold bench/console_data.py's data (100,000 consultations,
1,000,000 messages, or N times that with `--scale N`; `make bench-console`
generates it first, `BENCH_DATA_ARGS="--scale 10"` at scale 10; the scale is
read from the data). What it does:

1. creates `<name>_bare` next to the database if missing, migrates it and
   fills the bare project's table with 100,000 rows (100 groups of 1,000);
2. collects the product's static files into a temporary VAR_DIR (DEBUG off
   needs the manifest), then counts the SQL queries of every URL in-process
   (Django's test Client and CaptureQueriesContext, against the same
   database): each list tab × filter must cost the same number, and so must
   the chat pane of the 1,000-message consultation and of an average one;
3. starts the product and the bare project the way production runs the
   product's web processes: gunicorn with 2 `gthread` workers of 4 threads
   (`--server asgi`: uvicorn workers), DEBUG off, each worker with a psycopg
   pool of 8 connections (DB_POOL_MAX_SIZE), on 127.0.0.1 only;
4. signs in as bench-agent1 (a CSRF-checked POST of /login/) and, at
   concurrency 1 and then 8, loads each URL for `--seconds` with wrk (or a
   Python thread loop when wrk is missing), its connections opened one at a
   time so that both workers get some: the bare `/rows` view first and
   last, between them the list page for every scope × tab × flag, three
   searches, the chat pane of an average and of the 1,000-message
   consultation, and the full console page with each open;
5. prints req/s, p50 and p95 per URL and the ratio p95 / p95 of the bare view
   (the mean of its two runs at that concurrency), flagging any over 3×;
6. stops both servers, whatever happened.

Every request goes to 127.0.0.1 and every loop is bounded in time and count.
Exit status 1 if a URL answered anything but 200, or the query counts are not
constant; ratios over 3× are reported, not enforced.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import asdict, dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import console_data  # noqa: E402 (bench/ is not a package)
from webhook_bench import (  # noqa: E402
    BARE_DIR,
    HOST,
    POOL_MAX_SIZE,
    ConnectionWatch,
    bare_database_url,
    check_database_url,
    ensure_database,
    run,
    server_env,
    start_server,
    stop_server,
    wait_until_up,
)

RATIO_LIMIT = 3.0
BARE_ROWS = 100_000
BARE_GROUPS = 100
BARE_PATH = "/rows?group=7"
WARMUP_REQUESTS = 3  # sequential requests before each URL's first load, each checked for a 200
MAX_REQUESTS_PER_THREAD = 1_000_000  # the Python loop's bound besides time
REQUEST_TIMEOUT = 30
DRAIN_SECONDS = 60  # at most, after each load, for the server's last requests to finish
# The list's tabs per scope and its status filters (console/filters.py).
TABS = {"mine": ("waiting", "in_progress", "closed"), "all": ("unassigned", "waiting", "in_progress", "closed")}
FLAGS = ("all", "important", "hold", "both")


@dataclass(frozen=True)
class Target:
    label: str
    path: str
    group: str  # URLs of one group must cost the same number of queries
    htmx: bool = False

    def headers(self, cookie: str) -> dict[str, str]:
        headers = {"Cookie": cookie} if cookie else {}
        if self.htmx:
            headers["HX-Request"] = "true"
        return headers


def product_targets(plan: console_data.Plan) -> list[Target]:
    targets = [
        Target(f"list {scope}/{tab}/{flag}", f"/consultations/?scope={scope}&tab={tab}&flag={flag}", "list")
        for scope, tabs in TABS.items()
        for tab in tabs
        for flag in FLAGS
    ]
    common, rare = (urllib.parse.quote(word) for word in (console_data.COMMON_WORD, console_data.RARE_WORD))
    targets += [
        Target("search all/closed q=환불", f"/consultations/?scope=all&tab=closed&q={common}", "list"),
        Target("search all/closed q=분실", f"/consultations/?scope=all&tab=closed&q={rare}", "list"),
        Target("search mine/waiting q=환불", f"/consultations/?scope=mine&q={common}", "list"),
    ]
    average, big = plan.average_public_id, plan.big_public_id
    targets += [
        Target("chat pane, 10 messages", f"/consultations/{average}/chat", "chat", htmx=True),
        Target("chat pane, 1,000 messages", f"/consultations/{big}/chat", "chat", htmx=True),
        Target("console page, 10 messages open", f"/consultations/{average}/", "page"),
        Target("console page, 1,000 messages open", f"/consultations/{big}/", "page"),
    ]
    return targets


BARE_TARGET = Target("bare: 50 indexed rows via a template", BARE_PATH, "bare")


# --- query counts (in a child process with the product's settings) ----------------------------------

QUERY_COUNT_CODE = """
import json, sys, time
from django.db import connection
from django.http import HttpRequest
from django.test import Client
from django.test.utils import CaptureQueriesContext

targets = json.loads(sys.argv[1])
client = Client()
assert client.login(request=HttpRequest(), username={username!r}, password={password!r}), "login failed"
out = {{}}
for label, path, htmx in targets:
    headers = {{"HX-Request": "true"}} if htmx else {{}}
    first = client.get(path, headers=headers)  # the first may do one-off work (sessions, caches)
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, headers=headers)
    elapsed = time.perf_counter() - started
    queries = [(float(q["time"]) * 1000, q["sql"]) for q in captured.captured_queries]
    slowest = max(queries, default=(0.0, ""))
    out[label] = {{
        "status": response.status_code,
        "queries": len(queries),
        "sql_ms": round(sum(t for t, _ in queries), 1),
        "request_ms": round(elapsed * 1000, 1),
        "slowest_ms": round(slowest[0], 1),
        "slowest_sql": slowest[1],
        "bytes": len(response.content),
    }}
print("QUERY_COUNTS " + json.dumps(out, ensure_ascii=False))
"""


def count_queries(
    targets: list[Target], env: dict[str, str], *, username: str = console_data.LOGIN_USERNAME
) -> dict[str, dict]:
    code = QUERY_COUNT_CODE.format(username=username, password=console_data.PASSWORD)
    payload = json.dumps([(t.label, t.path, t.htmx) for t in targets], ensure_ascii=False)
    child_env = {**env, "ALLOWED_HOSTS": env["ALLOWED_HOSTS"] + ",testserver", "DB_POOL_MAX_SIZE": "0"}
    output = run([sys.executable, "-c", SHELL_BOOT + code, payload], env=child_env, timeout=600)
    line = next(line for line in output.splitlines() if line.startswith("QUERY_COUNTS "))
    return json.loads(line.removeprefix("QUERY_COUNTS "))


SHELL_BOOT = (
    "import os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'counsel_center.settings'); django.setup()\n"
)


def check_query_counts(targets: list[Target], counts: dict[str, dict]) -> tuple[list[str], list[str]]:
    """(problems, notes): a URL that did not answer 200, or a group whose URLs' query counts differ.

    A difference of one is a note, not a problem: a query that runs or not
    depending on what the page shows (Django's paginator reads no rows for an
    empty tab; the chat pane reads member names only when the page shows a
    transition), never one per row. More than one is a problem.
    """
    problems = [f"{label}: status {c['status']}" for label, c in counts.items() if c["status"] != 200]
    notes = []
    for group in dict.fromkeys(t.group for t in targets):
        numbers = {t.label: counts[t.label]["queries"] for t in targets if t.group == group}
        spread = max(numbers.values()) - min(numbers.values())
        if spread:
            by_count: dict[int, list[str]] = {}
            for label, number in numbers.items():
                by_count.setdefault(number, []).append(label)
            text = "; ".join(f"{number} queries: {', '.join(labels)}" for number, labels in sorted(by_count.items()))
            (problems if spread > 1 else notes).append(f"{group} URLs differ by {spread}: {text}")
    return problems, notes


# --- signing in and checking -----------------------------------------------------------------------


def get(port: int, path: str, headers: dict[str, str]) -> tuple[int, bytes, http.client.HTTPResponse]:
    connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read(), response
    finally:
        connection.close()


def cookies_of(response: http.client.HTTPResponse) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for header in response.msg.get_all("Set-Cookie") or []:
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


def sign_in(port: int, *, username: str = console_data.LOGIN_USERNAME) -> str:
    """POST /login/ with its CSRF token as `username`; the Cookie header of the signed-in session."""
    status, body, response = get(port, "/login/", {})
    if status != 200:
        sys.exit(f"GET /login/ answered {status}")
    csrf = cookies_of(response).get("csrftoken", "")
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if not csrf or not match:
        sys.exit("no CSRF token on the login page")
    form = urllib.parse.urlencode(
        {
            "username": username,
            "password": console_data.PASSWORD,
            "csrfmiddlewaretoken": match.group(1).decode(),
        }
    )
    connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    try:
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={csrf}"}
        connection.request("POST", "/login/", body=form, headers=headers)
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    session = cookies_of(response).get("sessionid")
    if response.status != 302 or not session:
        sys.exit(f"signing in as {username} failed: {response.status}")
    return f"sessionid={session}; csrftoken={csrf}"


def warm_up(port: int, target: Target, cookie: str) -> None:
    """A few sequential requests; each must be a 200 (a redirect to the login page would pass wrk unnoticed)."""
    for _ in range(WARMUP_REQUESTS):
        status, _body, _response = get(port, target.path, target.headers(cookie))
        if status != 200:
            sys.exit(f"{target.label}: GET {target.path} answered {status}")


# --- load -----------------------------------------------------------------------------------------

# One wrk thread per connection, each started STAGGER_SECONDS after the previous one. Opened all at once, the
# connections queue on the listening socket together and the first worker to wake accepts them all (asyncio
# accepts in a loop): most loads at concurrency 8 then ran on one of the two workers, at about a third of the
# throughput of two (docs/perf.md). One at a time, each connection goes to whichever worker wakes first.
STAGGER_SECONDS = 0.05
WRK_SCRIPT = """
local started = 0
setup = function(thread)
  thread:set("stagger", started * %(stagger)s)
  started = started + 1
end
init = function(args)
  if stagger > 0 then os.execute("sleep " .. stagger) end
end
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "WRK_JSON {\\"requests\\": %d, \\"duration_us\\": %d, \\"p50_us\\": %d, \\"p95_us\\": %d, \\"p99_us\\": %d, "
    .. "\\"max_us\\": %d, \\"non2xx\\": %d, \\"socket_errors\\": %d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
""".replace("%(stagger)s", str(STAGGER_SECONDS))


@dataclass
class Measure:
    label: str
    concurrency: int
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    non2xx: int = 0
    socket_errors: int = 0
    tool: str = "wrk"
    extra: dict = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def connection_spread(port: int) -> list[int]:
    """How the load's connections to `port` are spread over the server's worker processes, most loaded first.

    Each worker accepts connections from the shared socket as it gets to
    them; connections opened all at once often all go to one worker (see
    WRK_SCRIPT). Reported with each load at concurrency > 1 (docs/perf.md).
    Empty when `ss` is missing.
    """
    try:
        done = subprocess.run(
            ["ss", "-Htnp", "state", "established", f"( sport = :{port} )"],
            capture_output=True, text=True, timeout=10, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return []
    counts: dict[str, int] = {}
    for pid in re.findall(r"pid=(\d+)", done.stdout):
        counts[pid] = counts.get(pid, 0) + 1
    return sorted(counts.values(), reverse=True)


def load_wrk(port: int, target: Target, cookie: str, *, concurrency: int, seconds: float, script: Path) -> Measure:
    command = ["wrk", "--threads", str(concurrency), "--connections", str(concurrency)]  # staggered: WRK_SCRIPT
    command += ["--duration", f"{seconds:g}s", "--timeout", f"{REQUEST_TIMEOUT}s", "--script", str(script)]
    for name, value in target.headers(cookie).items():
        command += ["--header", f"{name}: {value}"]
    command.append(f"http://{HOST}:{port}{target.path}")
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        spread: list[int] = []
        if concurrency > 1:
            time.sleep(min(1.0 + concurrency * STAGGER_SECONDS, seconds / 2))  # once every connection is open
            spread = connection_spread(port)
        try:
            stdout, stderr = process.communicate(timeout=seconds + 60)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
    line = next((line for line in stdout.splitlines() if line.startswith("WRK_JSON ")), None)
    if process.returncode != 0 or line is None:
        sys.exit(f"wrk failed for {target.label}:\n{stdout}\n{stderr}")
    data = json.loads(line.removeprefix("WRK_JSON "))
    return Measure(
        label=target.label,
        concurrency=concurrency,
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p95_ms=data["p95_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        non2xx=data["non2xx"],
        socket_errors=data["socket_errors"],
        extra={"connections_per_worker": spread} if spread else {},
    )


def load_python(port: int, target: Target, cookie: str, *, concurrency: int, seconds: float) -> Measure:
    """The same measure without wrk: `concurrency` threads, each on one keep-alive connection."""
    until = time.monotonic() + seconds
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    failures = [0] * concurrency
    headers = target.headers(cookie)

    def client(i: int) -> None:
        time.sleep(i * STAGGER_SECONDS)  # connections one at a time, as with wrk (WRK_SCRIPT)
        connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
        try:
            for _ in range(MAX_REQUESTS_PER_THREAD):
                started = time.monotonic()
                if started >= until:
                    break
                try:
                    connection.request("GET", target.path, headers=headers)
                    response = connection.getresponse()
                    response.read()
                except (OSError, http.client.HTTPException):
                    failures[i] += 1
                    connection.close()
                    connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
                    continue
                latencies[i].append(time.monotonic() - started)
                if response.status != 200:
                    failures[i] += 1
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(concurrency)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + REQUEST_TIMEOUT + 10)
    elapsed = time.monotonic() - started
    every = sorted(latency * 1000 for per_thread in latencies for latency in per_thread)
    cuts = statistics.quantiles(every, n=100, method="inclusive") if len(every) >= 2 else [float("nan")] * 99
    return Measure(
        label=target.label,
        concurrency=concurrency,
        requests=len(every),
        seconds=elapsed,
        p50_ms=cuts[49],
        p95_ms=cuts[94],
        p99_ms=cuts[98],
        max_ms=every[-1] if every else float("nan"),
        non2xx=sum(failures),
        tool="python",
    )


def wait_until_idle(urls: list[str], *, limit: float = DRAIN_SECONDS) -> float:
    """Until no server runs a query in these databases (bounded); the seconds waited.

    A client that stops at the end of its time leaves its requests running in
    the server (Django does not cancel a query when the client goes away): a
    slow URL's last requests would otherwise weigh on the next URL's figures.
    """
    import psycopg

    names = [urllib.parse.urlsplit(url).path.lstrip("/") for url in urls]
    started = time.monotonic()
    with psycopg.connect(urls[0], autocommit=True, connect_timeout=10) as connection:
        for _ in range(int(limit / 0.1)):
            row = connection.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = ANY(%s) AND state = 'active'"
                " AND pid <> pg_backend_pid()",
                (names,),
            ).fetchone()
            if row[0] == 0:
                break
            time.sleep(0.1)
    return time.monotonic() - started


# --- the bare baseline's data ----------------------------------------------------------------------------


def fill_bare(url: str) -> None:
    """BARE_ROWS rows in BARE_GROUPS groups, once; ANALYZE after."""
    import psycopg

    with psycopg.connect(url, connect_timeout=10) as connection:
        have = connection.execute("SELECT count(*) FROM baseline_item").fetchone()[0]
        if have >= BARE_ROWS:
            return
        connection.execute("TRUNCATE baseline_item")
        connection.execute(
            """
            INSERT INTO baseline_item ("group", title, preview, created_at)
            SELECT 1 + i %% %(groups)s, '고객 ' || i, %(preview)s || ' (' || i || ')',
                   now() - make_interval(secs => i * 30)
            FROM generate_series(1, %(rows)s) AS i
            """,
            {"groups": BARE_GROUPS, "rows": BARE_ROWS, "preview": console_data.CUSTOMER_PHRASES[0]},
        )
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as connection:
        connection.execute("VACUUM (ANALYZE) baseline_item")
    print(f"filled the bare table with {BARE_ROWS:,} rows")


def check_product_data(url: str) -> console_data.Plan:
    """The plan (scale) of the benchmark data in the database; exits when there is none."""
    version, count = console_data.existing_version(url)
    plan = console_data.plan_of(count)
    if version != console_data.DATA_VERSION or plan is None:
        sys.exit(
            f"the database has no benchmark data v{console_data.DATA_VERSION} (found v{version}, {count:,} "
            "consultations): run bench/console_data.py first (make bench-console does)"
        )
    return plan


def summarize_log(name: str, path: Path) -> None:
    """The server log's exceptions, counted by message, and its last lines."""
    lines = path.read_text(errors="replace").splitlines() if path.exists() else []
    if not lines:
        return
    exceptions: dict[str, int] = {}
    for line in lines:
        if EXCEPTION_LINE.match(line):
            exceptions[line.strip()] = exceptions.get(line.strip(), 0) + 1
    print(f"--- {name} server log: {len(lines)} lines; exceptions: {exceptions or 'none'}")
    if not exceptions:
        print("\n".join(lines[-8:]))


EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt)\b.*")


# --- report --------------------------------------------------------------------------------------------


def ratio_table(
    measures: list[Measure], bare: dict[int, float], counts: dict[str, dict], targets: list[Target]
) -> tuple[list[str], list[str]]:
    """Markdown lines of the table, and the labels over RATIO_LIMIT."""
    by_key = {(m.label, m.concurrency): m for m in measures}
    concurrencies = sorted({m.concurrency for m in measures})
    head = "| URL | queries |"
    rule = "| --- | ---: |"
    for c in concurrencies:
        head += f" c={c} req/s | c={c} p50 ms | c={c} p95 ms | c={c} p95 / bare |"
        rule += " ---: | ---: | ---: | ---: |"
    lines = [head, rule]
    over = []
    for target in [BARE_TARGET, *targets]:
        row = f"| {target.label} | {counts.get(target.label, {}).get('queries', '–')} |"
        for c in concurrencies:
            m = by_key.get((target.label, c))
            if m is None:
                row += " – | – | – | – |"
                continue
            if m.requests == 0:
                row += f" 0 | none answered in {m.seconds:.0f} s | – | **over 3×** |"
                over.append(f"{target.label} (c={c}: none answered)")
                continue
            ratio = m.p95_ms / bare[c] if bare.get(c) else float("nan")
            mark = ""
            if target is not BARE_TARGET and ratio > RATIO_LIMIT:
                mark = " **over 3×**"
                over.append(f"{target.label} (c={c}: {ratio:.1f}×)")
            row += f" {m.per_second:.1f} | {m.p50_ms:.1f} | {m.p95_ms:.1f} | {ratio:.2f}×{mark} |"
        lines.append(row)
    return lines, over


def prepare(database_url: str, work: Path) -> tuple[dict[str, str], dict[str, str], str]:
    """The bare database (created, migrated, filled) and the product's static files; (product env, bare env, bare URL).

    Also used by bench/stats_bench.py.
    """
    bare_url = bare_database_url(database_url)
    app_env = server_env(database_url, work / "var", conn_max_age=0)
    bare_env = server_env(bare_url, work / "var-bare", conn_max_age=0, settings_module="baseline.settings")
    print(f"preparing {urllib.parse.urlsplit(bare_url).path[1:]} and the product's static files")
    ensure_database(bare_url)
    bare_migrate = [sys.executable, "-m", "django", "migrate", "--run-syncdb", "--no-input", "-v0"]
    run(bare_migrate, env=bare_env, cwd=BARE_DIR)
    fill_bare(bare_url)
    (work / "var").mkdir()
    run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], env=app_env)
    return app_env, bare_env, bare_url


def print_query_counts(targets: list[Target], counts: dict[str, dict]) -> None:
    for target in targets:
        c = counts[target.label]
        print(
            f"  {target.label:<36} {c['queries']:>3} queries  {c['sql_ms']:7.1f} ms SQL  {c['request_ms']:7.1f} ms"
            f"  slowest {c['slowest_ms']:6.1f} ms  {c['bytes']:>7,} bytes"
        )


@dataclass
class Loads:
    """Every load's figures; the bare view's two p95 per concurrency; the product's peak connections."""

    measures: list[Measure]
    bare_runs: dict[int, list[float]]
    peak_connections: int

    @property
    def bare(self) -> dict[int, float]:
        return {c: statistics.fmean(runs) for c, runs in self.bare_runs.items()}


def load_all(
    targets: list[Target],
    *,
    args: argparse.Namespace,
    tool: str,
    work: Path,
    app_env: dict[str, str],
    bare_env: dict[str, str],
    database_url: str,
    bare_url: str,
    username: str = console_data.LOGIN_USERNAME,
) -> Loads:
    """Start both servers, sign in as `username` and, per concurrency, load the bare view, each target, the bare view.

    `args` holds --seconds, --concurrency (parsed into a list), --workers, --port and --bare-port. Both
    servers are stopped, and their logs summarized, whatever happens. Also used by bench/stats_bench.py.
    """
    script = work / "report.lua"
    script.write_text(WRK_SCRIPT)
    product = start_server(
        "product", "counsel_center", kind=args.server, port=args.port, workers=args.workers, env=app_env, cwd=ROOT,
        log_dir=work,
    )  # fmt: skip
    bare_server = None
    measures: list[Measure] = []
    bare_runs: dict[int, list[float]] = {}
    try:
        bare_server = start_server(
            "bare", "baseline", kind=args.server, port=args.bare_port, workers=args.workers, env=bare_env,
            cwd=BARE_DIR, log_dir=work,
        )  # fmt: skip
        wait_until_up(product, "/login/")
        wait_until_up(bare_server, BARE_PATH)
        cookie = sign_in(args.port, username=username)
        for target in targets:
            warm_up(args.port, target, cookie)
        warm_up(args.bare_port, BARE_TARGET, "")

        def measure(port: int, target: Target, concurrency: int) -> Measure:
            waited = wait_until_idle([database_url, bare_url])
            if waited > 1:
                print(f"  (waited {waited:.1f} s for the previous URL's last requests)")
            if tool == "wrk":
                m = load_wrk(
                    port, target, cookie if port == args.port else "", concurrency=concurrency,
                    seconds=args.seconds, script=script,
                )  # fmt: skip
            else:
                m = load_python(
                    port, target, cookie if port == args.port else "", concurrency=concurrency,
                    seconds=args.seconds,
                )  # fmt: skip
            spread = m.extra.get("connections_per_worker")
            print(
                f"  c={concurrency} {m.label:<38} {m.per_second:7.1f} req/s  p50 {m.p50_ms:7.1f} ms"
                f"  p95 {m.p95_ms:7.1f} ms"
                + (f"  connections per worker {'/'.join(map(str, spread))}" if spread else "")
                + (f"  NON-200 {m.non2xx}" if m.non2xx else "")
                + (f"  socket errors {m.socket_errors}" if m.socket_errors else ""),
                flush=True,
            )
            return m

        with ConnectionWatch(database_url) as watch:
            for concurrency in args.concurrency:
                # The baseline before and after the product's URLs: their mean is the reference.
                first = measure(args.bare_port, BARE_TARGET, concurrency)
                for target in targets:
                    measures.append(measure(args.port, target, concurrency))
                last = measure(args.bare_port, BARE_TARGET, concurrency)
                bare_runs[concurrency] = [first.p95_ms, last.p95_ms]
                merged = Measure(
                    label=BARE_TARGET.label,
                    concurrency=concurrency,
                    requests=first.requests + last.requests,
                    seconds=first.seconds + last.seconds,
                    p50_ms=(first.p50_ms + last.p50_ms) / 2,
                    p95_ms=(first.p95_ms + last.p95_ms) / 2,
                    p99_ms=max(first.p99_ms, last.p99_ms),
                    max_ms=max(first.max_ms, last.max_ms),
                    non2xx=first.non2xx + last.non2xx,
                    socket_errors=first.socket_errors + last.socket_errors,
                    tool=tool,
                    extra={
                        "p95_runs_ms": [first.p95_ms, last.p95_ms],
                        "p50_runs_ms": [first.p50_ms, last.p50_ms],
                        "connections_per_worker_runs": [
                            first.extra.get("connections_per_worker", []),
                            last.extra.get("connections_per_worker", []),
                        ],
                    },
                )
                measures.append(merged)
        return Loads(measures, bare_runs, watch.peak)
    finally:
        for server in (product, bare_server):
            if server is not None:
                stop_server(server)
                summarize_log(server.name, server.log_path)


def add_load_arguments(parser: argparse.ArgumentParser, *, port: int, bare_port: int) -> None:
    """The load's flags, shared with bench/stats_bench.py (each its own ports, so both can run)."""
    parser.add_argument("--seconds", type=float, default=5, help="measured seconds per URL and concurrency (5)")
    parser.add_argument("--concurrency", default="1,8", help="comma-separated client concurrencies (1,8)")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (2)")
    parser.add_argument(
        "--server", choices=("wsgi", "asgi"), default="wsgi", help="wsgi: gunicorn gthread, as production (default)"
    )
    parser.add_argument("--port", type=int, default=port, help=f"port of the product ({port})")
    parser.add_argument("--bare-port", type=int, default=bare_port, help=f"port of the bare baseline ({bare_port})")
    parser.add_argument("--only", default="", help="a regular expression: load only the URLs whose label matches")
    parser.add_argument("--tool", choices=("auto", "wrk", "python"), default="auto", help="load tool (auto: wrk)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")


def check_load_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str:
    """Parse --concurrency into a list in place and check the bounds; the load tool to use."""
    args.concurrency = [int(c) for c in args.concurrency.split(",") if c.strip()]
    if not 0 < args.seconds <= 120 or not args.concurrency or not all(1 <= c <= 64 for c in args.concurrency):
        parser.error("keep --seconds in (0, 120] and each concurrency in [1, 64]")
    tool = args.tool if args.tool != "auto" else ("wrk" if shutil.which("wrk") else "python")
    if tool == "wrk" and not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk), or use --tool python")
    return tool


def print_ratios(loads: Loads, counts: dict[str, dict], targets: list[Target]) -> tuple[list[str], list[str]]:
    """The table and the bare view's runs; (table lines, labels over RATIO_LIMIT)."""
    bare = loads.bare
    lines, over = ratio_table(loads.measures, bare, counts, targets)
    print()
    print("\n".join(lines))
    print()
    for c, runs in loads.bare_runs.items():
        print(f"bare p95 at c={c}: runs {runs[0]:.1f} and {runs[1]:.1f} ms, reference {bare[c]:.1f} ms")
    print(f"peak connections of the product to PostgreSQL: {loads.peak_connections}")
    return lines, over


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_load_arguments(parser, port=8783, bare_port=8784)
    args = parser.parse_args()
    tool = check_load_arguments(parser, args)

    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url:
        sys.exit("DATABASE_URL is required, e.g. postgres://postgres@127.0.0.1:5432/counsel_console_bench")
    check_database_url(database_url)
    plan = check_product_data(database_url)
    print(f"benchmark data at scale {plan.scale}: {plan.consultations:,} consultations")
    targets = [t for t in product_targets(plan) if re.search(args.only, t.label)]
    started = time.monotonic()

    with tempfile.TemporaryDirectory(prefix="console-bench-") as tmp:
        work = Path(tmp)
        app_env, bare_env, bare_url = prepare(database_url, work)

        print("counting queries in-process (test Client, CaptureQueriesContext)")
        counts = count_queries(targets, app_env)
        problems, notes = check_query_counts(targets, counts)
        print_query_counts(targets, counts)

        print(
            f"gunicorn --workers {args.workers} ({args.server}), DEBUG=0, psycopg pool of {POOL_MAX_SIZE} per worker; "
            f"{tool}, {args.seconds:g} s per URL at concurrency {', '.join(map(str, args.concurrency))}"
        )
        loads = load_all(
            targets, args=args, tool=tool, work=work, app_env=app_env, bare_env=bare_env,
            database_url=database_url, bare_url=bare_url,
        )  # fmt: skip

    lines, over = print_ratios(loads, counts, targets)
    print(f"whole run: {time.monotonic() - started:.0f} s")
    measures = loads.measures
    non200 = [f"{m.label} (c={m.concurrency}): {m.non2xx} non-200" for m in measures if m.non2xx]
    problems += non200
    if over:
        print(f"OVER {RATIO_LIMIT:g}× the bare p95: " + "; ".join(over))
    else:
        print(f"every URL within {RATIO_LIMIT:g}× the bare p95")
    if any("differ" in p for p in problems):
        verdict = "NOT constant"
    else:
        verdict = "constant per group" + (" (within one conditional query)" if notes else "")
    print(f"query counts: {verdict}")
    for note in notes:
        print(f"NOTE: {note}")
    for problem in problems:
        print(f"PROBLEM: {problem}")

    figures = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "scale": plan.scale,
        "tool": tool,
        "seconds": args.seconds,
        "workers": args.workers,
        "pool_max_size": POOL_MAX_SIZE,
        "bare_p95_ms": loads.bare,
        "measures": [asdict(m) | {"per_second": round(m.per_second, 1)} for m in measures],
        "queries": counts,
        "over": over,
        "problems": problems,
        "query_count_notes": notes,
        "peak_connections": loads.peak_connections,
    }
    worst = max(
        (m for m in measures if m.label != BARE_TARGET.label),
        key=lambda m: m.p95_ms / loads.bare[m.concurrency],
        default=None,
    )
    figures["goals"] = [  # read by bench/run_all.py
        {
            "goal": f"every console URL p95 ≤ {RATIO_LIMIT:g}× the bare view (scale {plan.scale})",
            "figure": f"{len(over)} over; worst {worst.label} c={worst.concurrency} "
            f"{worst.p95_ms / loads.bare[worst.concurrency]:.1f}×"
            if worst
            else "nothing measured",
            "met": worst is not None and not over,
        },
        {"goal": "query counts constant", "figure": verdict, "met": "NOT" not in verdict},
    ]
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    if args.markdown:
        args.markdown.write_text("\n".join(lines) + "\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
