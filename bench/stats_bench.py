"""Benchmark of the statistics (SPEC §6) on the console benchmark's big center (see bench/README.md).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/counsel_console_bench .venv/bin/python bench/stats_bench.py

The database must hold bench/console_data.py's data (100,000 consultations,
1,000,000 messages, requested over the 347 days before it was generated;
`make bench-stats` generates it first when missing). What it measures:

1. rolling up one day for the bench center, as the nightly job does
   (`stats.rollup.roll_up(center, day, day)`), for yesterday and for a day
   whose consultations are all closed, `--repeat` times each, in a child
   process with the product's settings; goal ≤ 1 s. The same for the 92 days
   in one call (what seed_demo does). The rollup's SELECTs are run once more
   under EXPLAIN (ANALYZE, BUFFERS): a line each (time, indexes) and, with
   `--explain`, the whole plans;
2. rebuilding the 92 days up to yesterday with `manage.py rollup_stats
   --center bench`, timed as a user runs it (Django's start included);
   goal ≤ 60 s. It leaves the rollups the pages read in step 3;
3. the 통계 page (both tabs) and its CSV, served as production serves them
   (gunicorn with 2 `gthread` workers, DEBUG off, a psycopg pool of 8 per
   worker; `--server asgi` for uvicorn workers), signed in as bench-master, against the console benchmark's
   bare one-query view, at concurrency 1 and 8: p95 / bare p95, goal ≤ 3×;
   and their SQL queries counted in-process (the two tabs must cost the
   same). bench/console_bench.py's functions do the serving, signing in,
   loading and counting.

Every request goes to 127.0.0.1 and every loop is bounded in time and count.
Exit status 1 if a URL answered anything but 200, the query counts differ
between the tabs, or the data does not cover the range; goals are reported,
not enforced.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import console_data  # noqa: E402 (bench/ is not a package)
from console_bench import (  # noqa: E402
    RATIO_LIMIT,
    SHELL_BOOT,
    Target,
    add_load_arguments,
    check_load_arguments,
    check_product_data,
    check_query_counts,
    count_queries,
    load_all,
    prepare,
    print_query_counts,
    print_ratios,
)
from webhook_bench import POOL_MAX_SIZE, check_database_url, run, server_env  # noqa: E402

ONE_DAY_GOAL_SECONDS = 1.0
REBUILD_GOAL_SECONDS = 60.0
LOGIN_USERNAME = "bench-master"  # sees statistics (SPEC §6: masters, and managers who consult)
CLOSED_DAY_BACK = 30  # days before yesterday: console_data's last 6,000 consultations (~21 days) are still open

PAGE_TARGETS = [
    Target("stats page, counts tab", "/stats/", "page"),
    Target("stats page, times tab", "/stats/?tab=times", "page"),
    Target("stats CSV, 92 days", "/stats/daily.csv", "csv"),
]

# Run in a child process with the product's settings: argv = slug, repeat, closed-day offset.
ROLLUP_CODE = """
import json, sys, time
from datetime import timedelta
from django.db import connection
from django.test.utils import CaptureQueriesContext
from counsel_center.models import Center
from stats import rollup
from stats.models import DailyStat

slug, repeat, closed_back = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
center = Center.objects.get(slug=slug)
last = rollup.last_finished_day(center)
first = last - timedelta(days=rollup.RANGE_DAYS - 1)


def plans(queries):
    out = []
    with connection.cursor() as cursor:
        for query in queries:
            if query["sql"].lstrip().upper().startswith("SELECT"):
                # A benchmark's profile, not product code: the statements come from CaptureQueriesContext
                # (SQL text, no QuerySet to call .explain() on), and EXPLAIN runs only in this bench.
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                out.append({"sql": query["sql"], "plan": [row[0] for row in cursor.fetchall()]})
    return out


def timed(label, first_day, last_day, times):
    seconds = []
    for _ in range(times):
        started = time.perf_counter()
        rollup.roll_up(center, first_day, last_day)
        seconds.append(time.perf_counter() - started)
    with CaptureQueriesContext(connection) as captured:
        rollup.roll_up(center, first_day, last_day)
    rows = DailyStat.objects.for_range(center, first_day, last_day)
    return {
        "label": label,
        "first": first_day.isoformat(),
        "last": last_day.isoformat(),
        "seconds": seconds,
        "queries": len(captured.captured_queries),
        "inbound": sum(row.inbound for row in rows),
        "completed": sum(row.completed for row in rows),
        "first_responses": sum(row.first_response_count for row in rows),
        "plans": plans(captured.captured_queries),
    }


measured = rollup.measure(center, first, last)
out = {
    "first": first.isoformat(),
    "last": last.isoformat(),
    "days_with_inbound": sum(row.inbound > 0 for row in measured),
    "days_with_completed": sum(row.completed > 0 for row in measured),
    "runs": [
        timed("one day: yesterday", last, last, repeat),
        timed(f"one day: {closed_back} days before (all closed)", last - timedelta(days=closed_back),
              last - timedelta(days=closed_back), repeat),
        timed("92 days in one call", first, last, max(1, repeat // 2)),
    ],
}
print("ROLLUP_JSON " + json.dumps(out))
"""

PLAN_NODE = re.compile(r"(Index Only Scan|Index Scan|Bitmap Index Scan|Seq Scan)(?: using| on) (\w+)")


def plan_summary(plan: list[str]) -> str:
    """A plan's total time and what it read: 'Index Scan cons_center_requested' and the like."""
    total = next((line.split(":", 1)[1].strip() for line in plan if line.startswith("Execution Time")), "?")
    nodes = list(dict.fromkeys(f"{kind} {name}" for line in plan for kind, name in PLAN_NODE.findall(line)))
    return f"{total}; {', '.join(nodes) or 'no scan'}"


def measure_rollup(env: dict[str, str], *, repeat: int, explain: bool) -> dict:
    child_env = {**env, "DB_POOL_MAX_SIZE": "0"}
    args = [console_data.CENTER_SLUG, str(repeat), str(CLOSED_DAY_BACK)]
    output = run([sys.executable, "-c", SHELL_BOOT + ROLLUP_CODE, *args], env=child_env, timeout=900)
    line = next(line for line in output.splitlines() if line.startswith("ROLLUP_JSON "))
    figures = json.loads(line.removeprefix("ROLLUP_JSON "))
    for each in figures["runs"]:
        seconds = each["seconds"]
        each["first_seconds"], each["median_seconds"] = seconds[0], statistics.median(seconds)
        print(
            f"  {each['label']:<42} {each['first']}..{each['last']}: first {seconds[0] * 1000:8.1f} ms, median"
            f" {each['median_seconds'] * 1000:8.1f} ms of {len(seconds)}; {each['queries']} queries;"
            f" {each['inbound']:,} inbound, {each['completed']:,} completed, {each['first_responses']:,} first answers"
        )
        for number, plan in enumerate(each["plans"], start=1):
            print(f"      SELECT {number}: {plan_summary(plan['plan'])}")
            if explain:
                print("        " + "\n        ".join([plan["sql"], *plan["plan"]]))
    return figures


def rebuild(env: dict[str, str]) -> dict:
    """`manage.py rollup_stats --center bench`: the last 92 days, timed from the outside."""
    command = [sys.executable, "manage.py", "rollup_stats", "--center", console_data.CENTER_SLUG]
    started = time.monotonic()
    output = run(command, env={**env, "DB_POOL_MAX_SIZE": "0"}, timeout=900)
    wall = time.monotonic() - started
    reported = re.search(r"in ([\d.]+) s", output)
    figures = {"command": " ".join(command[1:]), "wall_seconds": wall, "output": output.strip()}
    figures["reported_seconds"] = float(reported.group(1)) if reported else None
    print(f"  {output.strip()}  (wall clock with Django's start: {wall:.1f} s)")
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_load_arguments(parser, port=8787, bare_port=8788)
    parser.add_argument("--repeat", type=int, default=5, help="one-day rollups per day measured (5)")
    parser.add_argument("--explain", action="store_true", help="print the rollup's query plans in full")
    parser.add_argument("--no-pages", action="store_true", help="only the rollups (steps 1 and 2)")
    args = parser.parse_args()
    tool = check_load_arguments(parser, args)
    if not 1 <= args.repeat <= 50:
        parser.error("keep --repeat in [1, 50]")

    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url:
        sys.exit("DATABASE_URL is required, e.g. postgres://postgres@127.0.0.1:5432/counsel_console_bench")
    check_database_url(database_url)
    check_product_data(database_url)
    targets = [t for t in PAGE_TARGETS if re.search(args.only, t.label)]
    started = time.monotonic()
    problems: list[str] = []
    figures: dict = {"when": time.strftime("%Y-%m-%d %H:%M:%S")}

    with tempfile.TemporaryDirectory(prefix="stats-bench-") as tmp:
        work = Path(tmp)
        env = server_env(database_url, work / "var-rollup", conn_max_age=0)

        print(f"1. rolling up one day for center {console_data.CENTER_SLUG!r} (stats.rollup.roll_up, in-process)")
        rollups = figures["rollup"] = measure_rollup(env, repeat=args.repeat, explain=args.explain)
        covered = rollups["days_with_inbound"]
        print(f"  range {rollups['first']}..{rollups['last']}: {covered} of 92 days have inbound")
        if covered < 92:
            problems.append(
                f"the data covers {covered} of the 92 days (it ends an hour before it was generated):"
                " regenerate it with bench/console_data.py --force"
            )
        print("2. rebuilding 92 days")
        figures["rebuild"] = rebuild(env)

        if not args.no_pages and targets:
            app_env, bare_env, bare_url = prepare(database_url, work)
            print(f"3. the 통계 pages, signed in as {LOGIN_USERNAME}; queries counted in-process")
            counts = count_queries(targets, app_env, username=LOGIN_USERNAME)
            count_problems, notes = check_query_counts(targets, counts)
            problems += count_problems + [f"NOTE {note}" for note in notes]
            print_query_counts(targets, counts)
            print(
                f"gunicorn --workers {args.workers} ({args.server}), DEBUG=0,"
                f" psycopg pool of {POOL_MAX_SIZE} per worker; {tool}, {args.seconds:g} s per URL"
                f" at concurrency {', '.join(map(str, args.concurrency))}"
            )
            loads = load_all(
                targets, args=args, tool=tool, work=work, app_env=app_env, bare_env=bare_env,
                database_url=database_url, bare_url=bare_url, username=LOGIN_USERNAME,
            )  # fmt: skip
            lines, over = print_ratios(loads, counts, targets)
            problems += [f"{m.label} (c={m.concurrency}): {m.non2xx} non-200" for m in loads.measures if m.non2xx]
            figures |= {
                "tool": tool,
                "seconds": args.seconds,
                "workers": args.workers,
                "bare_p95_ms": loads.bare,
                "measures": [asdict(m) | {"per_second": round(m.per_second, 1)} for m in loads.measures],
                "queries": counts,
                "over": over,
                "peak_connections": loads.peak_connections,
            }
            if args.markdown:
                args.markdown.write_text("\n".join(lines) + "\n")

    print()
    one_day = max(each["median_seconds"] for each in rollups["runs"][:2])
    verdict = "met" if one_day <= ONE_DAY_GOAL_SECONDS else "NOT met"
    print(f"one day rolled up in {one_day * 1000:.0f} ms (median, the slower day): goal ≤ 1 s {verdict}")
    rebuilt = figures["rebuild"]["wall_seconds"]
    verdict = "met" if rebuilt <= REBUILD_GOAL_SECONDS else "NOT met"
    print(f"92 days rebuilt by rollup_stats in {rebuilt:.1f} s: goal ≤ 60 s {verdict}")
    if "over" in figures:
        if figures["over"]:
            print(f"OVER {RATIO_LIMIT:g}× the bare p95: " + "; ".join(figures["over"]))
        else:
            print(f"every URL within {RATIO_LIMIT:g}× the bare p95")
    print(f"whole run: {time.monotonic() - started:.0f} s")
    for problem in problems:
        print(problem if problem.startswith("NOTE") else f"PROBLEM: {problem}")
    figures["problems"] = problems
    figures["goals"] = [  # read by bench/run_all.py
        {
            "goal": "one day rolled up ≤ 1 s",
            "figure": f"{one_day * 1000:.0f} ms",
            "met": one_day <= ONE_DAY_GOAL_SECONDS,
        },
        {"goal": "92 days rebuilt ≤ 60 s", "figure": f"{rebuilt:.1f} s", "met": rebuilt <= REBUILD_GOAL_SECONDS},
    ]
    if "over" in figures:
        figures["goals"].append(
            {"goal": f"statistics pages p95 ≤ {RATIO_LIMIT:g}× the bare view", "figure": f"{len(figures['over'])} over",
             "met": not figures["over"]}
        )  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    return 1 if any(not problem.startswith("NOTE") for problem in problems) else 0


if __name__ == "__main__":
    sys.exit(main())
