"""Upload benchmark: a 300 MiB file through the channel webhook, against copying the same bytes to a file.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/counsel_bench .venv/bin/python bench/upload_bench.py

What it does, in order (bench/README.md):

1. creates the database of DATABASE_URL if it is missing, migrates it, and
   adds a center of its own (a new slug per run);
2. starts the product as production runs it (docs/operations.md: gunicorn
   with 2 `gthread` workers, DEBUG off, a psycopg pool of 8 per worker;
   `--server asgi`: uvicorn workers) on
   127.0.0.1, with its spool (TMPDIR), upload temporary files and MEDIA_ROOT in
   one work directory (`--dir`), and next to it, under the same gunicorn
   command, an ASGI app (`drain_app` below) that only reads the body
   (`/drain`: the cost of moving the bytes through loopback, uvicorn and
   asyncio) or reads it with Django's `ASGIHandler.read_body` (`/spool`: what
   Django's handler adds before any view runs);
3. for `--rounds` rounds: copies `--mib` MiB from a generator into a file of
   the work directory (`shutil.copyfileobj`, no fsync, as the upload does none;
   once more with fsync, for the disk's own speed), uploads the same bytes to
   `/drain` and `/spool`, then as a signed `file` event to the webhook. For the
   webhook it resets each worker's peak RSS (/proc/<pid>/clear_refs) before
   the upload and reads it after (VmHWM): the growth of the worker that served
   it (the one whose CPU time grew) is the figure (goal ≤ 64 MB); checks the
   answer (200), the stored file's size, and that no temporary file is left
   (in the directories, or open in a worker);
4. unless `--no-stages`, times the server's steps one by one in a child
   process with the product's settings: spooling the body as Django's ASGI
   handler does, the multipart parse with the upload handler (temporary file
   and SHA-256), the parse without the hash, SHA-256 alone, and the move into
   storage;
5. prints a table, the ratio upload time / copy time (goal ≤ 2×), and stops
   the servers, whatever happened.

The client never holds the file: it writes the multipart body to the socket
from a generator repeating one 1 MiB block of random bytes. Every request goes
to 127.0.0.1, the database must be local, and every loop is bounded. Exit
status 1 if an upload was not accepted intact or left a temporary file; the
goals are reported, not enforced.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import http.client
import json
import math
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from webhook_bench import (  # noqa: E402 (bench/ is not a package)
    HOST,
    POOL_MAX_SIZE,
    SERVER_KINDS,
    SERVER_START_SECONDS,
    SERVER_STOP_SECONDS,
    check_database_url,
    ensure_database,
    port_is_free,
    run,
    server_env,
)

MIB = 1024 * 1024
SECRET = "bench-upload-secret"  # noqa: S105 (the bench center's own, made per run)
RSS_GOAL_BYTES = 64 * MIB
RATIO_GOAL = 2.0
SOCKET_TIMEOUT_SECONDS = 300  # one send or one read
BLOCK = random.Random(16).randbytes(MIB)  # the file's bytes: this block over and over


# --- the bytes -------------------------------------------------------------------------------------


def content(size: int):
    """`size` bytes as views of BLOCK: the same source for the copy and the uploads, never all in memory."""
    view = memoryview(BLOCK)
    left = size
    while left > 0:
        piece = view[: min(left, len(view))]
        left -= len(piece)
        yield piece


class ContentReader:
    """`content(size)` as a file object for shutil.copyfileobj (reads of at most 1 MiB)."""

    def __init__(self, size: int) -> None:
        self._pieces = content(size)

    def read(self, _n: int = -1):
        return next(self._pieces, b"")


def sha256_of_content(size: int) -> str:
    digest = hashlib.sha256()
    for piece in content(size):
        digest.update(piece)
    return digest.hexdigest()


@dataclass
class Multipart:
    fields: dict[str, str]
    file_name: str
    size: int
    boundary: str = field(default_factory=lambda: "upload-bench-" + secrets.token_hex(12))

    def head(self) -> bytes:
        parts = [
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            for name, value in self.fields.items()
        ]
        parts.append(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="file"; filename="{self.file_name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        )
        return "".join(parts).encode()

    def tail(self) -> bytes:
        return f"\r\n--{self.boundary}--\r\n".encode()

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return len(self.head()) + self.size + len(self.tail())

    def chunks(self):
        yield self.head()
        yield from content(self.size)
        yield self.tail()


@dataclass
class Answer:
    status: int
    body: bytes
    seconds: float  # connect to the whole answer read
    sent_seconds: float  # connect to the last byte of the body handed to the kernel

    def json(self) -> dict:
        try:
            return json.loads(self.body)
        except ValueError:
            return {}


def post_streaming(port: int, path: str, body: Multipart, headers: dict[str, str]) -> Answer:
    started = time.monotonic()
    sock = socket.create_connection((HOST, port), timeout=SOCKET_TIMEOUT_SECONDS)
    head = [f"POST {path} HTTP/1.1", f"Host: {HOST}", f"Content-Length: {len(body)}"]
    head += [f"Content-Type: {body.content_type}", "Connection: close"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    try:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # answered early: read the answer
            for chunk in body.chunks():
                sock.sendall(chunk)
        sent = time.monotonic()
        response = http.client.HTTPResponse(sock)
        response.begin()
        payload = response.read()
    finally:
        sock.close()
    return Answer(response.status, payload, time.monotonic() - started, sent - started)


def signed_event_upload(port: int, slug: str, size: int, sha256: str) -> Answer:
    event = {
        "event_id": f"upload-bench-{secrets.token_hex(8)}",
        "type": "message",
        "user_key": "upload-bench-customer",
        "profile_nickname": "업로드 테스트",
        "is_friend": True,
        "message": {"kind": "file", "file": {"name": "big.zip", "size": size, "sha256": sha256}},
    }
    event_text = json.dumps(event, ensure_ascii=False)
    timestamp = str(int(time.time()))
    mac = hmac.new(SECRET.encode(), f"{timestamp}.{event_text}".encode(), hashlib.sha256).hexdigest()
    headers = {"X-Channel-Timestamp": timestamp, "X-Channel-Signature": f"sha256={mac}"}
    body = Multipart(fields={"event": event_text}, file_name="big.zip", size=size)
    return post_streaming(port, f"/channel/{slug}/events", body, headers)


# --- an ASGI app that only reads the body (the floor under the product) ----------------------------


async def drain_app(scope, receive, send):
    """Reads the whole body and answers how many bytes and messages came.

    `/drain` keeps none of it; `/spool` hands it to Django's own
    `ASGIHandler.read_body` (a SpooledTemporaryFile, each message written
    through `sync_to_async` once it is on disk), as the product's handler does
    before any view runs, and nothing else of Django.
    """
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    total = messages = 0

    async def counted():
        nonlocal total, messages
        message = await receive()
        total += len(message.get("body", b""))
        messages += 1
        return message

    if scope["path"] == "/spool":
        from django.conf import settings
        from django.core.handlers.asgi import ASGIHandler

        if not settings.configured:
            settings.configure(FILE_UPLOAD_MAX_MEMORY_SIZE=2_621_440)  # the product's value
        body_file = await ASGIHandler.read_body(None, counted)
        body_file.close()
    else:
        while True:
            message = await counted()
            if message["type"] == "http.disconnect":
                return
            if not message.get("more_body", False):
                break
    payload = json.dumps({"bytes": total, "messages": messages}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


# --- servers ---------------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log_path: Path

    def workers(self) -> list[int]:
        master = self.process.pid
        return [int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()]


def start_gunicorn(
    name: str, app: str, *, kind: str, port: int, workers: int, env: dict[str, str], log_dir: Path
) -> Server:
    """docs/operations.md's web (`kind` wsgi) or stream (asgi) command on 127.0.0.1:`port`, in its own process
    group."""
    if not port_is_free(port):
        sys.exit(f"port {port} is in use; pick another with --port/--drain-port")
    command = [sys.executable, "-m", "gunicorn", app, *SERVER_KINDS[kind], "-w", str(workers)]
    command += ["-b", f"{HOST}:{port}", "--graceful-timeout", "10", "--log-level", "warning"]
    log_path = log_dir / f"{name}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(name, port, process, log_path)
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{name} exited with {process.returncode}; see {log_path}:\n{log_path.read_text()}")
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", "/")
            connection.getresponse().read()
            connection.close()
            if len(server.workers()) == workers:
                return server
        except OSError:
            pass
        time.sleep(0.25)
    stop(server)
    sys.exit(f"{name} did not answer within {SERVER_START_SECONDS} s; see {log_path}")


def stop(server: Server) -> None:
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


def proc_status_kib(pid: int) -> dict[str, int]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0])
    return values


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


@dataclass
class WorkerWatch:
    """Each worker's RSS before (peak reset) and peak after, and its CPU time over an upload."""

    server: Server
    before: dict[int, tuple[int, float]] = field(default_factory=dict)  # pid: (VmRSS KiB, CPU s)
    after: dict[int, tuple[int, float]] = field(default_factory=dict)  # pid: (VmHWM KiB, CPU s)

    def __enter__(self) -> WorkerWatch:
        for pid in self.server.workers():
            with contextlib.suppress(OSError):  # without it VmHWM may be older: the growth reads higher
                Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS now
            self.before[pid] = (proc_status_kib(pid)["VmRSS"], cpu_seconds(pid))
        return self

    def __exit__(self, *exc_info) -> None:
        for pid in self.before:
            with contextlib.suppress(OSError):
                self.after[pid] = (proc_status_kib(pid)["VmHWM"], cpu_seconds(pid))

    @property
    def serving(self) -> int:
        return max(self.after, key=lambda pid: self.after[pid][1] - self.before[pid][1])

    @property
    def growth_bytes(self) -> int:
        pid = self.serving
        return (self.after[pid][0] - self.before[pid][0]) * 1024

    @property
    def serving_cpu(self) -> float:
        pid = self.serving
        return self.after[pid][1] - self.before[pid][1]

    @property
    def rss_before_bytes(self) -> int:
        return self.before[self.serving][0] * 1024


def temporary_files(server: Server, directories: list[Path], *, timeout: float = 5.0) -> list[str]:
    """Files left in `directories`, and descriptors of the workers still open on one (the spool has no name).

    Waits up to `timeout` for them to go: Django closes a request's files just after its answer is sent.
    """
    prefixes = tuple(str(directory) + "/" for directory in directories)
    deadline = time.monotonic() + timeout
    while True:
        found = [str(path) for directory in directories for path in directory.iterdir()]
        for pid in server.workers():
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    # gunicorn's heartbeat file (wgunicorn-*) lives in TMPDIR for the worker's life: not ours
                    if target.startswith(prefixes) and not Path(target).name.startswith("wgunicorn-"):
                        found.append(f"open in {pid}: {target}")
        if not found or time.monotonic() >= deadline:
            return found
        time.sleep(0.05)


# --- the baseline ----------------------------------------------------------------------------------


def copy_to_file(path: Path, size: int, *, fsync: bool) -> float:
    started = time.monotonic()
    with path.open("wb") as target:
        shutil.copyfileobj(ContentReader(size), target, MIB)
        if fsync:
            target.flush()
            os.fsync(target.fileno())
    seconds = time.monotonic() - started
    path.unlink()
    return seconds


# --- the server's steps one by one (a child process with the product's settings) -------------------

STAGES_FLAG = "--stages-child"


def stages_child(size: int, chunk: int) -> None:
    """Times each step of the server's work on `size` bytes in this process; prints JSON."""
    import asyncio

    import django

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "counsel_center.settings")
    django.setup()
    from django.conf import settings
    from django.core.files.uploadhandler import TemporaryFileUploadHandler
    from django.core.handlers.asgi import ASGIHandler
    from django.http.multipartparser import MultiPartParser

    from consultations import uploads

    body = Multipart(fields={"event": "{}"}, file_name="big.zip", size=size)
    meta = {"CONTENT_TYPE": body.content_type, "CONTENT_LENGTH": str(len(body))}
    figures = {}

    def messages():
        # As uvicorn hands them over: a new bytes object per message, `chunk` bytes each.
        yield body.head()
        for piece in content(size):
            for start in range(0, len(piece), chunk):
                yield bytes(piece[start : start + chunk])
        yield body.tail()

    async def spool():
        pieces = messages()
        piece = next(pieces)

        async def receive():
            nonlocal piece
            current, piece = piece, next(pieces, None)
            return {"type": "http.request", "body": current, "more_body": piece is not None}

        return await ASGIHandler().read_body(receive)

    started = time.monotonic()
    spooled = asyncio.run(spool())
    figures["spool"] = time.monotonic() - started
    # The same writes without a thread hop each: what a handler that buffered or wrote in place would pay.
    started = time.monotonic()
    with tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE, mode="w+b") as direct:
        for message in messages():
            direct.write(message)
    figures["spool_direct"] = time.monotonic() - started

    def parse(handler):
        spooled.seek(0)
        started = time.monotonic()
        _, files = MultiPartParser(meta, spooled, [handler]).parse()
        return files["file"], time.monotonic() - started

    upload, figures["parse_plain"] = parse(TemporaryFileUploadHandler())
    upload.close()
    upload, figures["parse_capped"] = parse(uploads.CappedUploadHandler())
    assert upload.size == size
    started = time.monotonic()
    sha256_of_content(size)
    figures["sha256"] = time.monotonic() - started
    started = time.monotonic()
    stored = uploads.store(1, upload, name="big.zip", category="file")
    figures["store"] = time.monotonic() - started
    uploads.discard(stored)
    spooled.close()
    print(json.dumps(figures))


# --- main ------------------------------------------------------------------------------------------


def filesystem_of(path: Path) -> str:
    best = ("?", "", "?")
    for line in Path("/proc/self/mounts").read_text().splitlines():
        device, mount, kind, *_ = line.split()
        if str(path).startswith(mount.rstrip("/") + "/") and len(mount) >= len(best[1]):
            best = (device, mount, kind)
    return f"{best[0]} ({best[2]}) mounted on {best[1]}"


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        "?",
    )
    memory = int(Path("/proc/meminfo").read_text().split()[1]) // 1024 // 1024
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return f"{os.cpu_count()} cores ({model}), {memory} GiB, Python {sys.version.split()[0]}; load average {load}"


def rate(size: int, seconds: float) -> str:
    return f"{size / MIB / seconds:,.0f} MiB/s" if seconds else "-"


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == STAGES_FLAG:
        stages_child(int(sys.argv[2]), int(sys.argv[3]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=int, default=300, help="the file's size in MiB (default 300, the cap)")
    parser.add_argument("--rounds", type=int, default=3, help="copy, drain and upload this many times (default 3)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2, as in production)")
    parser.add_argument("--port", type=int, default=8789, help="port of the product (default 8789)")
    parser.add_argument(
        "--server", choices=sorted(SERVER_KINDS), default="wsgi", help="wsgi: production's web processes (default)"
    )
    parser.add_argument("--drain-port", type=int, default=8790, help="port of the drain-only app (default 8790)")
    parser.add_argument("--dir", type=Path, help="work directory's parent: the disk measured (default: $TMPDIR)")
    parser.add_argument("--no-stages", action="store_true", help="skip the in-process timing of each step")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if not 1 <= args.mib <= 300 or not 1 <= args.rounds <= 10:
        parser.error("keep --mib in [1, 300] and --rounds in [1, 10]")
    size = args.mib * MIB

    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url:
        sys.exit("DATABASE_URL is required, e.g. postgres://postgres@127.0.0.1:5432/counsel_bench")
    check_database_url(database_url)
    slug = f"upload-bench-{time.strftime('%Y%m%d%H%M%S')}"

    with tempfile.TemporaryDirectory(prefix="upload-bench-", dir=args.dir) as tmp:
        work = Path(tmp)
        var, spool = work / "var", work / "spool"
        spool.mkdir()
        env = server_env(database_url, var, conn_max_age=0)
        env["TMPDIR"] = str(spool)  # Django's ASGI handler spools the body here
        env["MEDIA_ROOT"] = str(var / "media")
        env["FILE_UPLOAD_TEMP_DIR"] = str(var / "tmp")
        print(f"machine: {machine()}")
        print(f"work directory {work} on {filesystem_of(work)}")
        ensure_database(database_url)
        run([sys.executable, "manage.py", "migrate", "--no-input", "-v0"], env=env)
        create = f"Center.objects.create(slug={slug!r}, name='업로드 벤치', webhook_secret={SECRET!r})"
        run(
            [sys.executable, "manage.py", "shell", "-c", f"from counsel_center.models import Center; {create}"], env=env
        )
        sha256 = sha256_of_content(size)  # before the clock: the channel knows its file's hash
        print(
            f"gunicorn counsel_center.{args.server}:application {' '.join(SERVER_KINDS[args.server])}"
            f" -w {args.workers}, "
            f"DEBUG=0, pool max {POOL_MAX_SIZE} per worker; {args.mib} MiB per upload, {args.rounds} rounds"
        )

        servers: list[Server] = []
        rounds = []
        failures = []
        try:
            product = start_gunicorn(
                "product",
                f"counsel_center.{args.server}:application",
                kind=args.server,
                port=args.port,
                workers=args.workers,
                env=env,
                log_dir=work,
            )
            servers.append(product)
            drain = start_gunicorn(
                "drain",
                "bench.upload_bench:drain_app",
                kind="asgi",
                port=args.drain_port,
                workers=args.workers,
                env=env,
                log_dir=work,
            )
            servers.append(drain)
            # Warm-up: small uploads on fresh connections, so that both workers have imported and parsed once.
            for _ in range(2 * args.workers):
                warm = signed_event_upload(product.port, slug, MIB, sha256_of_content(MIB))
                if warm.status != 200:
                    sys.exit(f"warm-up upload answered {warm.status}: {warm.body[:500]!r}")
            for file in (var / "media").rglob("*"):
                if file.is_file():
                    file.unlink()

            for number in range(args.rounds):
                copy = copy_to_file(work / "copy.bin", size, fsync=False)
                copy_fsync = copy_to_file(work / "copy.bin", size, fsync=True)
                drained = post_streaming(drain.port, "/drain", Multipart({"event": "{}"}, "big.zip", size), {})
                spooled = post_streaming(drain.port, "/spool", Multipart({"event": "{}"}, "big.zip", size), {})
                with WorkerWatch(product) as watch:
                    answer = signed_event_upload(product.port, slug, size, sha256)
                stored = [file for file in (var / "media").rglob("*") if file.is_file()]
                leftovers = temporary_files(product, [spool, var / "tmp"])
                stored_sizes = [file.stat().st_size for file in stored]
                if answer.status != 200 or stored_sizes != [size]:
                    failures.append(f"round {number + 1}: {answer.status} {answer.body[:300]!r}, stored {stored_sizes}")
                if leftovers:
                    failures.append(f"round {number + 1}: temporary files left: {leftovers}")
                for file in stored:
                    file.unlink()
                figures = {
                    "copy_s": copy,
                    "copy_fsync_s": copy_fsync,
                    "drain_s": drained.seconds,
                    "drain_messages": drained.json().get("messages"),
                    "spool_s": spooled.seconds,
                    "upload_s": answer.seconds,
                    "upload_body_sent_s": answer.sent_seconds,
                    "upload_status": answer.status,
                    "worker_rss_before_mib": watch.rss_before_bytes / MIB,
                    "worker_peak_growth_mib": watch.growth_bytes / MIB,
                    "worker_cpu_s": watch.serving_cpu,
                }
                rounds.append(figures)
                print(
                    f"round {number + 1}: copy {copy:.3f} s (fsync {copy_fsync:.3f} s), drain {drained.seconds:.3f} s,"
                    f" drain + Django's spool {spooled.seconds:.3f} s,"
                    f" upload {answer.seconds:.3f} s ({answer.status}; body sent at {answer.sent_seconds:.3f} s),"
                    f" worker CPU {watch.serving_cpu:.2f} s, peak RSS growth {watch.growth_bytes / MIB:.1f} MiB"
                )
        finally:
            for server in servers:
                stop(server)
                log = server.log_path.read_text(errors="replace").strip() if server.log_path.exists() else ""
                if log:
                    print(f"--- {server.name} log, last lines ---\n" + "\n".join(log.splitlines()[-8:]))

        stages = {}
        if not args.no_stages:
            mean = size // max(1, int(statistics.median(r["drain_messages"] or 1 for r in rounds)))
            chunk = 1 << max(12, min(20, round(math.log2(mean))))  # the nearest power of two: slices of the 1 MiB block
            output = run([sys.executable, __file__, STAGES_FLAG, str(size), str(chunk)], env=env, timeout=600)
            stages = json.loads(output.strip().splitlines()[-1])
            stages["chunk_bytes"] = chunk

    def median(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    copy, upload = median("copy_s"), median("upload_s")
    growth = max(r["worker_peak_growth_mib"] for r in rounds)
    print()
    print(f"| {args.mib} MiB, median of {args.rounds} | seconds | throughput | × copy |")
    print("| --- | ---: | ---: | ---: |")
    after_body = statistics.median(r["upload_s"] - r["upload_body_sent_s"] for r in rounds)
    rows = [
        ("copy to a file (copyfileobj from the generator, no fsync)", copy, True),
        ("the same with fsync", median("copy_fsync_s"), True),
        ("upload to the drain-only ASGI app (gunicorn + uvicorn, no Django)", median("drain_s"), True),
        ("the same app spooling the body with Django's `ASGIHandler.read_body`", median("spool_s"), True),
        ("**upload through the webhook** (200, file stored)", upload, True),
        ("… until the whole body was sent (the server reads and spools it)", median("upload_body_sent_s"), False),
        ("… from there to the answer (multipart parse, SHA-256, store, database)", after_body, False),
        ("serving worker's CPU time (user + system) for the upload", median("worker_cpu_s"), False),
    ]
    for label, seconds, whole in rows:
        print(f"| {label} | {seconds:.3f} | {rate(size, seconds) if whole else '–'} | {seconds / copy:.1f}× |")
    if stages:
        print(f"\nthe server's steps, in process (Django's body messages of {stages['chunk_bytes']:,} bytes):\n")
        print("| step | seconds | throughput |")
        print("| --- | ---: | ---: |")
        for key, label in [
            ("spool", "spool the body (ASGIHandler.read_body: SpooledTemporaryFile, a thread hop per write)"),
            ("spool_direct", "… the same writes without a thread hop each"),
            ("parse_capped", "multipart parse with CappedUploadHandler (temporary file + SHA-256)"),
            ("parse_plain", "… the same with Django's TemporaryFileUploadHandler (no hash)"),
            ("sha256", "SHA-256 alone"),
            ("store", "move into storage (uploads.store)"),
        ]:
            print(f"| {label} | {stages[key]:.3f} | {rate(size, stages[key])} |")
    ratio = upload / copy
    print()
    rss_verdict = "met" if growth * MIB <= RSS_GOAL_BYTES else "NOT met"
    print(f"peak RSS growth of the serving worker: at most {growth:.1f} MiB (goal ≤ 64 MB: {rss_verdict})")
    print(f"upload / copy: {ratio:.1f}× (goal ≤ {RATIO_GOAL:g}×: {'met' if ratio <= RATIO_GOAL else 'NOT met'})")
    for failure in failures:
        print(f"FAILED: {failure}")
    if args.json:
        figures = {
            "machine": machine(),
            "mib": args.mib,
            "rounds": rounds,
            "stages": stages,
            "ratio": ratio,
            "peak_growth_mib": growth,
            "goals": [  # read by bench/run_all.py
                {"goal": "upload worker's peak RSS growth ≤ 64 MB", "figure": f"{growth:.1f} MiB",
                 "met": growth * MIB <= RSS_GOAL_BYTES},
                {"goal": f"upload ≤ {RATIO_GOAL:g}× copying the bytes", "figure": f"{ratio:.1f}×",
                 "met": ratio <= RATIO_GOAL},
            ],
        }  # fmt: skip
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
