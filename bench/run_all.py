"""Run every benchmark in turn and print one screen: each goal, the figure, met or missed (`make bench`).

Each benchmark is its own script (bench/README.md) and runs here as a child
process with `--json`, its output going to the terminal as usual and to
`<out>/<name>.log`; each writes its goals into its JSON (`"goals"`: goal,
figure, met), and this script prints them all at the end. By default it runs
the console (with its data, generated once per scale), the webhook and live
updates; `--also stats upload` adds the statistics and the 300 MiB upload.

The databases and Redis are the local ones of `make bench-*`: each benchmark
checks that its URLs are on this machine. Exit status 1 when a benchmark
failed (it crashed, or lost or doubled something); a goal missed is reported,
not enforced.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432"


@dataclass(frozen=True)
class Bench:
    name: str
    script: str
    database: str  # the database name under the local server
    prepare: str | None = None  # a data script run first with the same environment
    redis: bool = False


BENCHES = {
    "console": Bench("console", "console_bench.py", "counsel_console_bench", prepare="console_data.py"),
    "webhook": Bench("webhook", "webhook_bench.py", "counsel_bench"),
    "live": Bench("live", "live_bench.py", "counsel_bench", redis=True),
    "stats": Bench("stats", "stats_bench.py", "counsel_console_bench", prepare="console_data.py"),
    "upload": Bench("upload", "upload_bench.py", "counsel_bench"),
}
DEFAULT = ("console", "webhook", "live")


def environment(bench: Bench, args: argparse.Namespace) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    # A database per scale of the console data, so scale 1 and 10 can both stay (console_data.py refuses to
    # turn one into the other without --force).
    database = bench.database if not bench.prepare or args.scale == 1 else f"{bench.database}_x{args.scale}"
    env["DATABASE_URL"] = f"{args.postgres}/{database}"
    if bench.redis and args.redis:
        env["REDIS_URL"] = args.redis
    return env


def run(command: list[str], env: dict[str, str], log) -> int:
    """The command with its output on the terminal and in `log`."""
    # Our own scripts with fixed arguments, no shell.
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in process.stdout:
        sys.stdout.write(line)
        log.write(line)
    return process.wait()


def run_bench(bench: Bench, args: argparse.Namespace) -> dict:
    """{"status": exit status, "seconds": …, "goals": [...]} of one benchmark."""
    env = environment(bench, args)
    result_path = args.out / f"{bench.name}.json"
    result_path.unlink(missing_ok=True)
    started = time.monotonic()
    with (args.out / f"{bench.name}.log").open("w") as log:
        print(f"\n=== {bench.name} ({bench.script}) ===", flush=True)
        if bench.prepare:
            status = run([sys.executable, str(BENCH / bench.prepare), "--scale", str(args.scale)], env, log)
            if status:
                return {"status": status, "seconds": time.monotonic() - started, "goals": []}
        command = [sys.executable, str(BENCH / bench.script), "--json", str(result_path)]
        if bench.name == "webhook" and args.seconds:
            command += ["--seconds", str(args.seconds)]
        status = run(command, env, log)
    goals = json.loads(result_path.read_text()).get("goals", []) if result_path.exists() else []
    return {"status": status, "seconds": time.monotonic() - started, "goals": goals}


def summary(results: dict[str, dict]) -> list[str]:
    lines = ["", "=== summary ===", f"{'benchmark':<9} {'goal':<62} {'figure':<38} verdict"]
    for name, result in results.items():
        if not result["goals"]:
            lines.append(f"{name:<9} {'(no figures)':<62} {'':<38} FAILED (exit {result['status']})")
            continue
        for goal in result["goals"]:
            verdict = "met" if goal["met"] else "MISSED"
            lines.append(f"{name:<9} {goal['goal']:<62} {goal['figure']:<38} {verdict}")
        if result["status"]:
            lines.append(f"{name:<9} {'the run itself':<62} {'exit ' + str(result['status']):<38} FAILED")
    total = sum(result["seconds"] for result in results.values())
    lines.append(f"whole run {total / 60:.0f} min; logs and JSON in the output folder")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHES), help="run these instead of the default three")
    parser.add_argument("--also", nargs="+", choices=sorted(BENCHES), default=[], help="run these too")
    parser.add_argument(
        "--scale", type=int, default=1, help="console data scale: 1 (100,000 consultations) or 10 (database …_x10)"
    )
    parser.add_argument("--seconds", type=float, help="the webhook's measured seconds (its default: 20)")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES", DEFAULT_PG), help="local server URL")
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench", help="logs and JSON (default var/bench)")
    args = parser.parse_args()
    names = list(dict.fromkeys([*(args.only or DEFAULT), *args.also]))
    args.out.mkdir(parents=True, exist_ok=True)

    results = {name: run_bench(BENCHES[name], args) for name in names}
    lines = summary(results)
    print("\n".join(lines))
    (args.out / "summary.txt").write_text("\n".join(lines) + "\n")
    return 1 if any(result["status"] for result in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
