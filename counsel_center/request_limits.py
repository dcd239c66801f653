"""Request bodies refused before they are read (docs/operations.md, "Request limits").

What a reverse proxy's `client_max_body_size` and body timeout do, per route,
in front of Django:

- each URL has a body limit: `REQUEST_BODY_MAX_BYTES`, or its view's own
  (`body_limit`, for the routes that take files). A declared `Content-Length`
  over it is answered 413 at once;
- a view may name an early check (`body_limit(check=…)`) that sees the URL's
  arguments and the headers, never the body, and refuses before a byte of the
  body is read (the webhook: an unknown center, no signature);
- a header longer than MAX_HEADER_BYTES is answered 431.

`first_refusal` decides; two doors apply it, one per server:

- under WSGI (gunicorn `gthread`, production's pages and webhook) Django reads
  the body only when a view asks for it, so `RequestLimitsMiddleware`, the
  first middleware, refuses before it is read;
- under ASGI (uvicorn: the live-update stream in production, everything under
  `make run`) Django's handler reads the whole body before any middleware, so
  `RequestLimits` wraps the ASGI application instead. There, a chunked body is
  also answered 413 once it passes the limit, and a client that stops sending
  its body for `REQUEST_BODY_TIMEOUT_SECONDS` is answered 408 (under WSGI that
  is the proxy's `client_body_timeout`, docs/operations.md). Once the body is
  in, the application's `receive` is the server's own: an open live-update
  stream listens for the disconnect without any timeout.
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
from django.http import JsonResponse
from django.urls import Resolver404, resolve

from .unavailable import database_error_in

# Where a request carries when its headers arrived (unix seconds): a key of the ASGI scope, or of the WSGI
# environ (`request.META`), as servers name their own extensions ("gunicorn.socket").
RECEIVED_AT = "counsel.received_at"


def received_at(request) -> float | None:
    """When the request's headers arrived; None where no door noted it (a request built by hand)."""
    scope = getattr(request, "scope", None)
    if scope is not None:
        return scope.get(RECEIVED_AT)
    return request.META.get(RECEIVED_AT)


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


def first_refusal(method: str, path: str, headers: dict[str, str]) -> tuple[BodyLimit, Refusal | None]:
    """The route's body limit, and the refusal its headers alone earn (None: go on). `headers` in lower case.

    The route's early check may query the database: call this from synchronous code.
    """
    limit, kwargs, refusal = _refusal_without_check(path, headers)
    if refusal is None and limit.check is not None:
        refusal = limit.check(EarlyRequest(method=method, headers=headers, kwargs=kwargs))
    return limit, refusal


def _refusal_without_check(path: str, headers: dict[str, str]) -> tuple[BodyLimit, dict, Refusal | None]:
    """`first_refusal` short of the early check: no database, so the ASGI door runs it on the event loop."""
    limit, kwargs = _limit_for(path)
    if any(len(value) > MAX_HEADER_BYTES for value in headers.values()):
        return limit, kwargs, HEADER_TOO_LARGE
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit.max_bytes:
        return limit, kwargs, TOO_LARGE
    return limit, kwargs, None


def _limit_for(path: str) -> tuple[BodyLimit, dict]:
    default = BodyLimit(settings.REQUEST_BODY_MAX_BYTES)
    try:
        match = resolve(path)
    except Resolver404:
        return default, {}
    return getattr(match.func, "body_limit", default), match.kwargs


class RequestLimitsMiddleware:
    """The WSGI door: a middleware before any that reads the body (SecurityMiddleware, first, adds its
    headers to the refusals). Under ASGI `RequestLimits` has already decided, and this passes the request on."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if hasattr(request, "scope"):  # ASGI: RequestLimits ran (or, in a test, was left out on purpose)
            return self.get_response(request)
        request.META.setdefault(RECEIVED_AT, time.time())
        headers = {name.lower(): value for name, value in request.headers.items()}
        _limit, refusal = first_refusal(request.method, request.path_info, headers)
        if refusal is not None:
            return JsonResponse({"error": refusal.error, "detail": refusal.detail}, status=refusal.status)
        return self.get_response(request)


class RequestLimits:
    """The ASGI door: wraps the ASGI application, as a proxy in front of it would."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        # When the headers arrived: a signature's time window is judged then, not after a long upload.
        scope = {**scope, RECEIVED_AT: time.time()}
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        limit, kwargs, refusal = _refusal_without_check(scope["path"][len(scope.get("root_path", "")) :], headers)
        if refusal is None and limit.check is not None:
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


def _run_check(check: EarlyCheck, request: EarlyRequest) -> Refusal | None:
    try:
        return check(request)
    except Exception as error:
        if database_error_in(error) is None:
            raise
        # Raised here, outside Django's handler, it would be the server's bare 500. The view repeats the check
        # and Django answers its database error 503 (counsel_center/unavailable.py).
        return None
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
