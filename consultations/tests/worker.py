"""A real Celery worker for the delivery tests, and the test process's Celery app on the same broker.

The worker is `celery -A counsel_center worker` as docs/operations.md runs it
(the prefork pool; two children, the default on a 2-core server), on the test
database, with a broker of the test's own (`private_redis`). It runs in a
process group of its own, so `kill` takes the children with it: a crash, not
a shutdown (no task is finished or handed back to the broker).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from celery import Celery
from django.conf import settings

from .live import ROOT, START_SECONDS, database_url_for, dying_with_us, wait_until_disconnected

CONCURRENCY = 2
STOP_SECONDS = 10
# Not passed on to the worker: the test run's own database, Redis and pool settings, and proxies (the receiver is
# on loopback).
INHERITED_NOT = ("LIVE_", "DATABASE_URL", "REDIS_URL", "DB_POOL", "CONN_MAX_AGE", "CELERY_")
PROXIES = {"http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"}


@contextlib.contextmanager
def celery_app_on(broker_url: str) -> Iterator[Celery]:
    """The test process publishes to `broker_url` while the block runs: a Celery app of its own, made current.

    The suite's app runs tasks in process (conftest.py) and keeps connections
    to the suite's broker; the product's tasks (shared tasks) follow whichever
    app is current, so `lifecycle` queues to this broker on commit.
    """
    from counsel_center.celery import app as suite_app

    app = Celery("counsel_center", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(
        broker_url=broker_url,
        broker_transport_options={"socket_connect_timeout": settings.REDIS_CONNECT_TIMEOUT_SECONDS},
        task_always_eager=False,
    )
    app.set_current()
    app.set_default()
    try:
        yield app
    finally:
        app.close()
        suite_app.set_current()
        suite_app.set_default()


@dataclass
class Worker:
    name: str
    process: subprocess.Popen
    log_path: Path
    application_name: str

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL the whole group, main process and pool children at once: what a crash or the OOM killer does."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=STOP_SECONDS)
        gone = wait_until_disconnected(self.application_name, timeout=STOP_SECONDS)
        assert gone, f"the backends of {self.application_name} are still there after {STOP_SECONDS} s"


def start_celery_worker(name: str, work: Path, *, broker_url: str, environment: dict[str, str]) -> Worker:
    """A worker on the test database and `broker_url`, ready to take tasks; `environment`: settings (DELIVERY_…)."""
    application_name = f"live-test-worker-{name}-{os.getpid()}"
    env = {key: value for key, value in os.environ.items() if not key.startswith(INHERITED_NOT) and key not in PROXIES}
    env.update(
        DJANGO_SETTINGS_MODULE="counsel_center.settings",
        DATABASE_URL=database_url_for(application_name),
        REDIS_URL=broker_url,
        SECRET_KEY=settings.SECRET_KEY,
        VAR_DIR=str(work / name),
        DEBUG="0",
        PYTHONUNBUFFERED="1",
        **environment,
    )
    command = [sys.executable, "-m", "celery", "-A", "counsel_center", "worker", "--loglevel", "INFO"]
    command += ["--concurrency", str(CONCURRENCY), "--hostname", f"{name}@%h"]
    log_path = work / f"{name}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            dying_with_us(command), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    worker = Worker(name=name, process=process, log_path=log_path, application_name=application_name)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            worker.kill()
            raise AssertionError(f"worker {name} exited with {process.returncode}:\n{worker.log()}")
        if " ready." in worker.log():  # Celery's line once the pool runs and the consumer takes tasks
            return worker
        time.sleep(0.1)
    worker.kill()
    raise AssertionError(f"worker {name} was not ready within {START_SECONDS} s:\n{worker.log()}")
