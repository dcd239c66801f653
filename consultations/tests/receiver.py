"""A channel's receiving end for delivery tests: a real HTTP server on 127.0.0.1.

It records each request and answers from a script of statuses. Plain standard
library, so the production smoke test (scripts/smoke_production.py) uses it too.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SLOW = "slow"  # a script entry: answer 200, but only after the client's timeout
HOLD = "hold"  # a script entry: answer 200 once the test sets `release` (a request kept in flight)
HOLD_MAX_SECONDS = 60  # a held request never outlives a test that forgot to release it


@dataclass
class Request:
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)  # when it arrived
    answer: int | str | None = None  # the script entry it got

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A channel's receiving end: records each request and answers from `script` (the last entry repeats)."""

    url: str = ""
    script: list = field(default_factory=lambda: [200])
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)

    def answer(self, *script) -> None:
        with self.lock:
            self.script = list(script)

    def next_answer(self, request: Request):
        with self.lock:
            self.requests.append(request)
            request.answer = self.script.pop(0) if len(self.script) > 1 else self.script[0]
            return request.answer

    @property
    def idempotency_keys(self) -> set[str]:
        return {request.headers["Idempotency-Key"] for request in self.requests}

    @property
    def held(self) -> list[Request]:
        """The requests answered HOLD: in flight until `release` is set."""
        with self.lock:
            return [request for request in self.requests if request.answer == HOLD]


def _handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            answer = receiver.next_answer(Request(headers=dict(self.headers.items()), body=body))
            if answer == SLOW:
                receiver.release.wait(3)  # past the 1 s timeout; teardown releases it early
                answer = 200
            elif answer == HOLD:
                receiver.release.wait(HOLD_MAX_SECONDS)
                answer = 200
            payload = b'{"ok": true}' if answer < 400 else f"upstream says no ({answer})".encode()
            try:
                self.send_response(answer)
                self.send_header("Content-Type", "application/json" if answer < 400 else "text/plain")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the client gave up (timeout) and closed the connection

        def log_message(self, *args) -> None:
            pass

    return Handler


@contextmanager
def running_receiver(port: int = 0) -> Iterator[Receiver]:
    """A receiver listening on `port` (a free one by default) of 127.0.0.1 until the block ends."""
    receiver = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(receiver))
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_port}/channel/outbound"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()
