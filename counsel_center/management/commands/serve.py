"""Start the web server, a Celery worker and Celery beat together (the `make run` set-up).

Production runs these as separate, supervised processes (docs/operations.md);
this command is for one machine: it stops all three when any one exits or when
it receives Ctrl-C / SIGTERM.
"""

import signal
import subprocess  # nosec B404  # starts this project's own three processes, fixed arguments
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the web server (uvicorn, ASGI), a Celery worker and Celery beat in one foreground command."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Interface to bind (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8000, help="Port of the web server (default 8000).")

    def handle(self, *args, host: str, port: int, **options) -> None:
        python = sys.executable
        commands = {
            # Live-update streams never end by themselves: on Ctrl-C they get 3 s, then are closed.
            "web": [python, "-m", "uvicorn", "counsel_center.asgi:application", "--host", host, "--port", str(port),
                    "--timeout-graceful-shutdown", "3"],
            "worker": [python, "-m", "celery", "-A", "counsel_center", "worker", "--pool", "threads",
                       "--concurrency", "4", "--loglevel", "INFO"],
            "beat": [python, "-m", "celery", "-A", "counsel_center", "beat", "--loglevel", "INFO",
                     "--schedule", settings.CELERY_BEAT_SCHEDULE_FILENAME],
        }  # fmt: skip
        processes: dict[str, subprocess.Popen] = {}
        for name, cmd in commands.items():
            processes[name] = subprocess.Popen(cmd)  # noqa: S603  # nosec B603  # the fixed lists above, no shell
        self.stdout.write(self.style.SUCCESS(f"상담 관리자센터: http://{host}:{port}/  (Ctrl-C to stop)"))

        stopping = False

        def stop(*_args) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        exit_code = 0
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    self.stderr.write(f"{name} exited with code {process.returncode}; stopping the others.")
                    exit_code = process.returncode or 1
                    stopping = True
            time.sleep(0.5)
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        if exit_code:
            sys.exit(exit_code)
