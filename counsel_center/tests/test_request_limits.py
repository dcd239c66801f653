"""Bodies refused before they are read (counsel_center/request_limits.py), in process.

Each test drives the ASGI middleware as a server would and records whether
the application behind it asked for the body at all. The same limits against
a real uvicorn server: consultations/tests/test_request_limits_server.py.
"""

import asyncio
import json

import pytest

from consultations.channel import signing
from counsel_center.asgi import application
from counsel_center.request_limits import RequestLimits
from counsel_center.tests.factories import CenterFactory


class Client:
    """A client of the ASGI app: `chunks` are the body messages it would send; None stalls for ever."""

    def __init__(self, chunks=(b"",)) -> None:
        self.chunks = list(chunks)
        self.asked = 0  # how many body messages the application asked for
        self.sent = []

    async def receive(self):
        self.asked += 1
        if not self.chunks:
            await asyncio.sleep(3600)  # connected, silent: as a browser holding a stream open
        chunk = self.chunks.pop(0)
        if chunk is None:
            await asyncio.sleep(3600)  # a client that declared a body and stopped sending it
        return {"type": "http.request", "body": chunk, "more_body": bool(self.chunks)}

    async def send(self, message):
        self.sent.append(message)

    @property
    def status(self) -> int:
        return self.sent[0]["status"]

    @property
    def json(self) -> dict:
        return json.loads(b"".join(m.get("body", b"") for m in self.sent[1:]))


def scope(path, *, method="POST", headers=()):
    return {
        "type": "http",
        "method": method,
        "path": path,
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *headers],
    }


def run(app, path, client, **kwargs) -> Client:
    asyncio.run(asyncio.wait_for(app(scope(path, **kwargs), client.receive, client.send), 10))
    return client


async def echo_length(scope, receive, send):
    """An application that reads the whole body, as Django's handler does, and answers its length."""
    length = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return  # Django raises RequestAborted and answers nothing
        length += len(message["body"])
        if not message["more_body"]:
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(length).encode()})


guarded = RequestLimits(echo_length)


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.REQUEST_BODY_MAX_BYTES = 1000
    settings.REQUEST_BODY_TIMEOUT_SECONDS = 0.2


def test_a_declared_length_over_the_limit_is_answered_413_without_reading_the_body():
    client = run(guarded, "/login/", Client([b"x" * 10, None]), headers=[(b"content-length", b"1001")])

    assert client.status == 413
    assert client.json["error"] == "too_large"
    assert client.asked == 0
    assert (b"connection", b"close") in client.sent[0]["headers"]


def test_a_body_within_the_limit_reaches_the_application():
    client = run(guarded, "/login/", Client([b"x" * 600, b"y" * 400]), headers=[(b"content-length", b"1000")])

    assert client.status == 200
    assert client.sent[1]["body"] == b"1000"


def test_a_chunked_body_is_cut_off_with_413_once_it_passes_the_limit():
    client = run(guarded, "/login/", Client([b"x" * 600, b"y" * 600, b"z" * 600]))

    assert client.status == 413
    assert client.asked == 2  # the third chunk was never asked for


def test_a_body_that_stops_arriving_is_answered_408():
    client = run(guarded, "/login/", Client([b"x" * 10, None]), headers=[(b"content-length", b"500")])

    assert client.status == 408
    assert client.json["error"] == "body_timeout"


def test_once_the_body_is_in_the_application_waits_for_the_client_without_a_timeout():
    """A live-update stream listens for the disconnect for hours: the body timeout must not end it."""
    seen = []

    async def listens(scope, receive, send):
        await receive()  # the (empty) body
        try:
            await asyncio.wait_for(receive(), 0.6)  # three body timeouts
        except TimeoutError:
            seen.append("still waiting")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    client = run(RequestLimits(listens), "/events/stream", Client([b""]), method="GET")

    assert seen == ["still waiting"]
    assert client.status == 200


def test_an_over_long_header_is_refused_with_431():
    client = run(guarded, "/login/", Client(), headers=[(b"cookie", b"x" * 9000)])

    assert client.status == 431
    assert client.json["error"] == "header_too_large"


# --- the webhook's own limit and early check, through the product's application ---------------------

SIGNED = pytest.mark.django_db(transaction=True)  # the early check reads the center on another thread


def webhook_headers(secret=None, *, length=None):
    headers = [(b"content-type", b"application/json")]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    if secret:
        headers += [(k.lower().encode(), v.encode()) for k, v in signing.signed_headers(secret, b"{}").items()]
    return headers


@SIGNED
def test_the_webhook_takes_bodies_up_to_its_attachment_limit():
    from consultations.uploads import MAX_BODY_BYTES

    CenterFactory(slug="alpha", webhook_secret="alpha-secret")
    headers = webhook_headers("alpha-secret", length=MAX_BODY_BYTES + 1)

    over = run(application, "/channel/alpha/events", Client([None]), headers=headers)

    assert over.status == 413 and over.asked == 0
    assert MAX_BODY_BYTES > 300 * 1024 * 1024  # far above the pages' limit


@SIGNED
def test_the_webhook_refuses_an_unknown_center_before_reading_the_body():
    client = run(application, "/channel/nowhere/events", Client([None]), headers=webhook_headers(length=10**6))

    assert client.status == 404
    assert client.json["error"] == "unknown_center"
    assert client.asked == 0


@SIGNED
def test_the_webhook_refuses_an_unsigned_request_before_reading_the_body():
    CenterFactory(slug="alpha", webhook_secret="alpha-secret")

    client = run(application, "/channel/alpha/events", Client([None]), headers=webhook_headers(length=10**6))

    assert client.status == 401
    assert client.json["error"] == "missing_signature"
    assert client.asked == 0


@SIGNED
def test_the_webhook_refuses_a_stale_timestamp_before_reading_the_body():
    CenterFactory(slug="alpha", webhook_secret="alpha-secret")
    stale = [
        (b"content-type", b"application/json"),
        (b"x-channel-timestamp", b"1000000000"),
        (b"x-channel-signature", b"sha256=00"),
    ]

    client = run(application, "/channel/alpha/events", Client([None]), headers=stale)

    assert client.status == 401
    assert client.json["error"] == "stale_timestamp"
    assert client.asked == 0
