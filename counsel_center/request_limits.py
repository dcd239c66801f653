"""Request bodies refused before they are read (docs/operations.md, "Request limits").

Django's ASGI handler reads a request's whole body, to memory and then to a
temporary file, before any middleware or view runs: a limit checked in a view
comes after the upload. `RequestLimits` is an ASGI middleware in front of it
that does what a reverse proxy's `client_max_body_size` and body timeout do,
per route:

- each URL has a body limit: `REQUEST_BODY_MAX_BYTES`, or its view's own
  (`body_limit`, for the routes that take files). A declared `Content-Length`
  over it is answered 413 at once; a chunked body is answered 413 once it
  passes it, and the rest is not read;
- a view may name an early check (`body_limit(check=…)`) that sees the URL's
  arguments and the headers, never the body, and refuses before a byte of the
  body is read (the webhook: an unknown center, no signature);
- a client that stops sending its body for `REQUEST_BODY_TIMEOUT_SECONDS` is
  answered 408 and disconnected;
- a header longer than MAX_HEADER_BYTES is answered 431.

Once the body is in, the application's `receive` is the server's own: an open
live-update stream listens for the disconnect without any timeout.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django.urls import Resolver404, resolve

# The ASGI scope key holding when the request's headers arrived (unix seconds): `received_at(request)`.
RECEIVED_AT = "counsel.received_at"


def received_at(request) -> float | None:
    """When the request's headers arrived, under ASGI; None elsewhere (WSGI, the test client)."""
    return getattr(request, "scope", {}).get(RECEIVED_AT)


@dataclass(frozen=True)
class Refusal:
    """An answer given before the body is read: `error` and `detail` become its JSON."""

    status: int
    error: str
    detail: str


@dataclass(frozen=True)
class EarlyRequest:
    """What an early check may look at: no body, no session."""

    method: str
    headers: dict[str, str]  # names in lower case
    kwargs: dict  # the URL's arguments


EarlyCheck = Callable[[EarlyRequest], Refusal | None]


@dataclass(frozen=True)
class BodyLimit:
    max_bytes: int
    check: EarlyCheck | None = None


def body_limit(max_bytes: int, *, check: EarlyCheck | None = None):
    """Give a view its own body limit and early check, as `csrf_exempt` marks a view: an attribute it carries."""

    def mark(view):
        view.body_limit = BodyLimit(max_bytes, check)
        return view

    return mark


def _json(refusal: Refusal) -> bytes:
    return json.dumps({"error": refusal.error, "detail": refusal.detail}).encode()


# Django's ASGI handler turns a header past 10,000 characters into a 500; refuse it as a proxy would.
MAX_HEADER_BYTES = 8192
HEADER_TOO_LARGE = Refusal(431, "header_too_large", "A request header is too large.")
TOO_LARGE = Refusal(413, "too_large", "The request body is larger than this address accepts.")
TOO_SLOW = Refusal(408, "body_timeout", "The request body stopped arriving.")


class RequestLimits:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        # When the headers arrived: a signature's time window is judged then, not after a long upload.
        scope = {**scope, RECEIVED_AT: time.time()}
        if any(len(value) > MAX_HEADER_BYTES for _, value in scope["headers"]):
            return await _refuse(send, HEADER_TOO_LARGE)
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        limit, kwargs = self._limit_for(scope)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit.max_bytes:
            return await _refuse(send, TOO_LARGE)
        if limit.check is not None:
            early = EarlyRequest(method=scope["method"], headers=headers, kwargs=kwargs)
            refusal = await sync_to_async(_run_check, thread_sensitive=False)(limit.check, early)
            if refusal is not None:
                return await _refuse(send, refusal)
        body = _BodyReader(receive, limit.max_bytes, settings.REQUEST_BODY_TIMEOUT_SECONDS)
        started = False

        async def send_watched(message):
            nonlocal started
            started = True
            await send(message)

        await self.app(scope, body.receive, send_watched)
        if body.refusal is not None and not started:
            # The application saw a disconnect and gave up (Django: RequestAborted); the client is still there.
            await _refuse(send, body.refusal)

    def _limit_for(self, scope) -> tuple[BodyLimit, dict]:
        default = BodyLimit(settings.REQUEST_BODY_MAX_BYTES)
        path = scope["path"][len(scope.get("root_path", "")) :]
        try:
            match = resolve(path)
        except Resolver404:
            return default, {}
        return getattr(match.func, "body_limit", default), match.kwargs


def _run_check(check: EarlyCheck, request: EarlyRequest) -> Refusal | None:
    try:
        return check(request)
    finally:
        # A thread of asgiref's pool, not a request's: hand back its connection (closed, or to the pool).
        close_old_connections()


class _BodyReader:
    """The server's `receive`, with the body counted and each wait for it bounded, until the body is complete."""

    def __init__(self, receive, max_bytes: int, timeout: float) -> None:
        self._receive = receive
        self._left = max_bytes
        self._timeout = timeout
        self._complete = False
        self.refusal: Refusal | None = None

    async def receive(self):
        if self._complete:
            return await self._receive()
        if self.refusal is not None:
            return {"type": "http.disconnect"}
        try:
            message = await asyncio.wait_for(self._receive(), self._timeout)
        except TimeoutError:
            self.refusal = TOO_SLOW
            return {"type": "http.disconnect"}
        if message["type"] == "http.request":
            self._left -= len(message.get("body", b""))
            if self._left < 0:
                self.refusal = TOO_LARGE
                return {"type": "http.disconnect"}
            self._complete = not message.get("more_body", False)
        return message


async def _refuse(send, refusal: Refusal) -> None:
    body = _json(refusal)
    await send(
        {
            "type": "http.response.start",
            "status": refusal.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-content-type-options", b"nosniff"),
                # The rest of the body is never read, so the connection cannot carry another request.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
