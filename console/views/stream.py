"""`GET /events/stream`: the member's center's Events as Server-Sent Events (docs/architecture.md, "Live updates").

The stream starts after a cursor (the `Last-Event-ID` header of a browser's
reconnect, else `?last=<cursor>` from the page, else "now") and sends every
Event row of the center after it, in stream order (consultations/live/feed.py), each with
`id: <cursor>` so that a reconnect resumes exactly there. Between reads it
waits for the Redis doorbell (re-reading at least every
LIVE_DOORBELL_SAFETY_SECONDS), or without one polls every LIVE_POLL_SECONDS,
and sends a comment after LIVE_HEARTBEAT_SECONDS of silence so that proxies
keep the connection open.

An open stream holds its client socket and a coroutine; no database
connection and no thread between reads (`feed`), and no Redis connection of
its own (the process's one subscription serves all its streams: `doorbell`;
both in consultations/live/, which reads the Event table).
Under WSGI (runserver, pytest-django's live_server) it cannot stay open, and
answers 204: the browser stops asking and the page works without live updates.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterator

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from consultations.live import doorbell, feed, throttled_warning

logger = logging.getLogger("consultations.live.stream")  # its name before it moved here: log filters know it

RETRY_MILLISECONDS = 2000  # the browser's wait before it reconnects
# How often a stream checks that its session still belongs to a member of the
# center: a logout or a deactivated membership ends the stream within this.
RECHECK_SECONDS = 60.0
MIN_INTERVAL_SECONDS = 0.1
# Events held for an older transaction (feed): read again after this, doubling up to the poll interval.
# Only how soon they arrive depends on it; the horizon decides what is sent.
HELD_FIRST_SECONDS = 0.005

PING = ": ping\n\n"
MODE_COMMENTS = {True: ": live doorbell\n\n", False: ": live polling\n\n"}


def requested_cursor(request: HttpRequest) -> feed.Cursor | None:
    """`Last-Event-ID` (a reconnect) wins over `?last=` (the page's first connect); ValueError when malformed."""
    for raw in (request.headers.get("Last-Event-ID"), request.GET.get("last")):
        if raw is None or not raw.strip():
            continue
        return feed.Cursor.parse(raw)
    return None


def _plain(text: str, status: int) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


@require_GET
async def event_stream(request: HttpRequest) -> HttpResponse:
    if not isinstance(request, ASGIRequest):
        # Under WSGI (runserver, a WSGI deployment) an endless response would hold a
        # server thread for ever. 204 tells EventSource to stop reconnecting: the page
        # works without live updates (docs/operations.md: serve with uvicorn).
        return HttpResponse(status=204)
    try:
        cursor = requested_cursor(request)
    except ValueError:
        return _plain(_("The event cursor must be an event id of this stream."), 400)
    try:
        reader, start = await feed.run(feed.open_stream, request, cursor)
    except Exception:  # the database is unreachable: no stream now, the page tries again
        throttled_warning(logger, "open", "live updates: cannot open a stream", exc_info=True)
        return _plain(_("Live updates are unavailable at the moment."), 503)
    if reader is None:
        if start == 401:
            return _plain(_("Sign in to receive live updates."), 401)
        return _plain(_("Your account is not an active member of any center."), 403)
    response = StreamingHttpResponse(Stream(reader, start).messages(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each message on at once
    return response


class Stream:
    """One client's stream: the cursor, the doorbell, and the loop that reads and waits."""

    def __init__(self, reader: feed.Reader, cursor: feed.Cursor) -> None:
        self.reader = reader
        self.cursor = cursor
        self.held = False  # the last read left Events held for an older transaction

    async def messages(self) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        # A floor, so that a zero in the environment cannot turn a stream into a busy loop.
        poll = max(settings.LIVE_POLL_SECONDS, MIN_INTERVAL_SECONDS)
        safety = max(settings.LIVE_DOORBELL_SAFETY_SECONDS, MIN_INTERVAL_SECONDS)
        heartbeat = max(settings.LIVE_HEARTBEAT_SECONDS, MIN_INTERVAL_SECONDS)
        bell = doorbell.Doorbell(self.reader.center_id)
        held_wait = 0.0
        try:
            yield f"retry: {RETRY_MILLISECONDS}\n\n"
            # Subscribe before the first read: a ring for a commit the read
            # misses then still wakes us.
            await bell.connect()
            ringing = bell.connected
            yield MODE_COMMENTS[ringing]
            now = loop.time()
            read_at, written_at, recheck_at = now, now, now + RECHECK_SECONDS
            while True:
                if loop.time() >= read_at:
                    async with contextlib.aclosing(self._read()) as batches:
                        async for text in batches:
                            yield text
                            written_at = loop.time()
                    # Held Events arrive once the transactions before them end; the ring of those
                    # commits may be for another center (or none), so look again soon.
                    held_wait = min(max(held_wait * 2, HELD_FIRST_SECONDS), poll) if self.held else 0.0
                    read_at = loop.time() + (held_wait or (safety if bell.connected else poll))
                if loop.time() >= recheck_at:
                    if not await self._still_allowed():
                        return  # the browser reconnects and meets the login check
                    recheck_at = loop.time() + RECHECK_SECONDS
                if bell.enabled and not bell.connected and loop.time() >= bell.retry_at and await bell.connect():
                    read_at = loop.time()  # rings were lost while Redis was away
                    continue
                if bell.connected != ringing:
                    ringing = bell.connected
                    yield MODE_COMMENTS[ringing]
                    written_at = loop.time()
                if loop.time() - written_at >= heartbeat:
                    yield PING
                    written_at = loop.time()
                wake_at = min(
                    read_at,
                    written_at + heartbeat,
                    recheck_at,
                    bell.retry_at if bell.enabled and not bell.connected else math.inf,
                )
                if await bell.wait(wake_at - loop.time()):
                    read_at = loop.time()
        finally:
            # Runs when the client goes away too (Django cancels the response
            # task and closes this generator): the stream leaves the subscription.
            await bell.close()

    async def _read(self) -> AsyncIterator[str]:
        """Every settled Event after the cursor, a batch at a time; a database error waits for the next read."""
        while True:
            try:
                batch = await feed.run(feed.read_after, self.reader.center_id, self.cursor)
            except Exception:
                throttled_warning(logger, "read", "live updates: reading events failed; retrying", exc_info=True)
                return
            self.held = batch.held
            if batch.count:
                self.cursor = batch.last
                yield batch.text
            if batch.count < feed.BATCH_SIZE:
                return

    async def _still_allowed(self) -> bool:
        try:
            return await feed.run(feed.still_reader, self.reader)
        except Exception:  # cannot tell now: keep the stream, ask again later
            throttled_warning(logger, "recheck", "live updates: re-checking a stream's member failed", exc_info=True)
            return True
