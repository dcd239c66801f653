"""A PostgreSQL cluster of one test module's own, which it may stop and start again (test_database_restart.py).

Never the machine's shared server, which other tests use: `initdb` into a
temporary directory, `pg_ctl start` on a free port of 127.0.0.1 (TCP only; the
socket in that directory). initdb refuses to run as root, so as root the
cluster's commands run as the `postgres` user, who owns the directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from consultations.tests.live import HOST, free_port

BINARIES = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda path: int(path.parts[-3]))
# A test cluster: small, and nothing is kept should the machine fail.
SERVER_SETTINGS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=16MB"
START_SECONDS = 60


class PrivatePostgres:
    def __init__(self) -> None:
        if not BINARIES:
            pytest.fail(
                "PostgreSQL's server binaries are missing from /usr/lib/postgresql/*/bin (apt-get install postgresql)"
            )
        self.bin = BINARIES[-1].parent
        self.as_root = os.geteuid() == 0
        self.work = Path(tempfile.mkdtemp(prefix="private-postgres-"))
        if self.as_root:
            shutil.chown(self.work, "postgres", "postgres")
        self.data = self.work / "data"
        self.port = free_port()
        try:
            self._run(
                "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"
            )
            self.start()
        except BaseException:
            self.destroy()
            raise

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=START_SECONDS, check=False)  # noqa: S603
        if done.returncode:
            raise AssertionError(f"{program} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}\n{self.log()}")

    def log(self) -> str:
        path = self.work / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self) -> None:
        options = f"-p {self.port} -k {self.work} -c listen_addresses={HOST} {SERVER_SETTINGS}"
        self._run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.work / "server.log"), "-o", options, "-w")

    def stop(self, mode: str = "fast") -> None:
        """`fast`: as a restart does, every session is ended at once and the server shuts down."""
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w")

    def url(self, database: str, *, application_name: str = "") -> str:
        query = f"?application_name={application_name}" if application_name else ""
        return f"postgres://postgres@{HOST}:{self.port}/{database}{query}"

    def create_database(self, name: str) -> None:
        self._run("createdb", "-h", HOST, "-p", str(self.port), "-U", "postgres", name)

    def destroy(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w")
        finally:
            shutil.rmtree(self.work, ignore_errors=True)
