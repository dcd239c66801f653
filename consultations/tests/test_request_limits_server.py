"""Big and stalled bodies against real servers: answered at once, nothing written to disk.

Each test runs against uvicorn (the ASGI entry point: the stream processes,
`make run`) and gunicorn `gthread` (the WSGI entry point: production's web
processes), except the stalled bodies, which under WSGI are the proxy's to
cut off (docs/operations.md, "Request limits"). The servers run with a TMPDIR
of their own, where a handler would spool a body it reads: it must stay empty.
"""

from __future__ import annotations

import contextlib
import select
import socket
import time

import pytest

from consultations.channel import signing

from .live import HOST

pytestmark = pytest.mark.django_db(transaction=True)

GIB = 1024**3
ANSWER_BOUND_SECONDS = 1.0
BODY_TIMEOUT_SECONDS = 1.0


@pytest.fixture(scope="module")
def spool(tmp_path_factory):
    return tmp_path_factory.mktemp("server-tmp")


@pytest.fixture(params=["asgi", "wsgi"])
def server(request, live_servers, spool):
    return live_servers.get(
        f"limits-{request.param}",
        environment={"TMPDIR": str(spool), "REQUEST_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT_SECONDS)},
        wsgi=request.param == "wsgi",
    )


@pytest.fixture
def asgi_server(live_servers, spool):
    return live_servers.get(
        "limits-asgi",
        environment={"TMPDIR": str(spool), "REQUEST_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT_SECONDS)},
    )


def post_streaming(server, path: str, length: int, headers: dict[str, str], *, limit_seconds: float = 10.0):
    """Declare `length` bytes and send zeros as fast as the server takes them until it answers.

    Returns (status, seconds until the answer's status line, bytes sent by then).
    """
    sock = socket.create_connection((HOST, server.port))
    head = [f"POST {path} HTTP/1.1", f"Host: {HOST}", f"Content-Length: {length}"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    started = time.monotonic()
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    sock.setblocking(False)
    chunk = b"\0" * 65536
    sent, answer = 0, b""
    try:
        while time.monotonic() - started < limit_seconds:
            readable, writable, _ = select.select([sock], [sock] if sent < length else [], [], 0.2)
            if readable:
                data = sock.recv(4096)
                answer += data
                if not data or b"\r\n" in answer:
                    break
            elif writable:
                with contextlib.suppress(BlockingIOError, BrokenPipeError, ConnectionResetError):
                    sent += sock.send(chunk[: length - sent])
    finally:
        sock.close()
    seconds = time.monotonic() - started
    assert answer, f"no answer within {limit_seconds} s ({sent} bytes sent)"
    return int(answer.split()[1]), seconds, sent


def test_an_unsigned_gigabyte_to_the_webhook_is_refused_within_a_second_and_nothing_is_spooled(server, center, spool):
    status, seconds, sent = post_streaming(
        server, f"/channel/{center.slug}/events", GIB, {"Content-Type": "application/json"}
    )

    assert status == 413  # over the webhook's limit: refused before the center is even looked up
    assert seconds < ANSWER_BOUND_SECONDS
    assert sent < GIB // 10
    assert list(spool.iterdir()) == []


def test_an_unsigned_body_within_the_limit_is_refused_401_before_it_is_read(server, center, spool):
    length = 200 * 1024 * 1024
    status, seconds, sent = post_streaming(
        server, f"/channel/{center.slug}/events", length, {"Content-Type": "application/json"}
    )

    assert status == 401
    assert seconds < ANSWER_BOUND_SECONDS
    assert sent < length // 4
    assert list(spool.iterdir()) == []


def test_a_signed_gigabyte_is_refused_413_within_a_second(server, center, spool):
    headers = {"Content-Type": "application/json", **signing.signed_headers(center.webhook_secret, b"{}")}

    status, seconds, _ = post_streaming(server, f"/channel/{center.slug}/events", GIB, headers)

    assert status == 413
    assert seconds < ANSWER_BOUND_SECONDS
    assert list(spool.iterdir()) == []


def test_a_400_megabyte_post_to_the_login_page_is_refused_within_a_second(server, spool):
    status, seconds, _ = post_streaming(
        server, "/login/", 400 * 1024 * 1024, {"Content-Type": "application/x-www-form-urlencoded"}
    )

    assert status == 413
    assert seconds < ANSWER_BOUND_SECONDS
    assert list(spool.iterdir()) == []


def send_head_and_stall(server, center, length: int) -> tuple[bytes, float]:
    """Signed headers declaring `length` bytes, a few bytes of body, then silence.

    Returns the whole answer and the seconds until the server closed the
    connection; a server that keeps it open fails the test with a timeout.
    """
    sock = socket.create_connection((HOST, server.port), timeout=BODY_TIMEOUT_SECONDS + 5)
    headers = {"Content-Type": "application/json", **signing.signed_headers(center.webhook_secret, b"{}")}
    head = [f"POST /channel/{center.slug}/events HTTP/1.1", f"Host: {HOST}", f"Content-Length: {length}"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    started = time.monotonic()
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + b'{"event_id": ')
    try:
        answer = b""
        while data := sock.recv(4096):
            answer += data
    finally:
        sock.close()
    return answer, time.monotonic() - started


def test_a_client_that_declares_a_body_and_stalls_is_cut_off_after_the_body_timeout(asgi_server, center):
    answer, seconds = send_head_and_stall(asgi_server, center, 100 * 1024 * 1024)

    assert answer.startswith(b"HTTP/1.1 408")
    assert BODY_TIMEOUT_SECONDS <= seconds < BODY_TIMEOUT_SECONDS + 2


def test_a_declared_400_megabytes_is_answered_at_once_without_waiting_for_them(asgi_server, center):
    # Under WSGI the answer comes as fast (the tests above), but gunicorn keeps the connection for the
    # rest of the body, which a proxy would never have passed on.
    answer, seconds = send_head_and_stall(asgi_server, center, 419430400)

    assert answer.startswith(b"HTTP/1.1 413")
    assert seconds < ANSWER_BOUND_SECONDS
