"""The live-update doorbell: Redis pub/sub that tells a center's streams "look again".

A ring carries nothing: the Event table is the source of truth and the
streams' cursor, so a lost ring costs latency (until the stream's next safety
read), never an event. That is why nothing here may fail a caller: `ring`
runs after a commit and swallows every error, and a stream whose subscription
breaks simply polls the table until `Doorbell.connect` succeeds again.

Ringing: `ring_on_commit` is called wherever an Event is created, and
publishes once per center when the transaction commits (`transaction.on_commit`).

Listening: a process holds one Redis connection in subscribe mode, shared by
all its streams (`_Subscription`): it subscribes to a center's channel while
some stream of that center is open and passes each ring on to those streams
(`Doorbell`, one per stream).

Without `REDIS_URL` there is no doorbell at all and streams poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time

import redis
import redis.asyncio
from django.conf import settings
from django.db import transaction
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry

from . import throttled_warning

logger = logging.getLogger(__name__)

CHANNEL_PREFIX = "counsel:events:"
# Publishing runs in the request that committed, after the commit: a Redis that
# does not answer may delay that response by this much, and no more.
PUBLISH_TIMEOUT_SECONDS = 0.5
# After a failed publish, rings are skipped for this long rather than each
# commit paying the timeout again (streams poll meanwhile: their own
# subscription broke too).
PUBLISH_PAUSE_SECONDS = 1.0
SUBSCRIBE_TIMEOUT_SECONDS = 1.0
# How often the process tries to subscribe again after Redis went away.
RESUBSCRIBE_SECONDS = 3.0
# The subscription's read waits at most this long for a message before looking again (it costs nothing).
LISTEN_SECONDS = 5.0


def channel(center_id: int) -> str:
    return f"{CHANNEL_PREFIX}{center_id}"


# --- ringing (synchronous, after commit) ------------------------------------------------------------

_publishers: dict[str, redis.Redis] = {}
_publishers_lock = threading.Lock()
_paused_until: dict[str, float] = {}


def _publisher(url: str) -> redis.Redis:
    """One client (and connection pool) per process and URL, shared by all threads."""
    with _publishers_lock:
        client = _publishers.get(url)
        if client is None:
            client = _publishers[url] = redis.Redis.from_url(
                url,
                socket_timeout=PUBLISH_TIMEOUT_SECONDS,
                socket_connect_timeout=PUBLISH_TIMEOUT_SECONDS,
                # One immediate retry on a fresh connection: a pooled connection
                # can be stale after a Redis restart; more retries would only
                # delay the response while Redis is really down.
                retry=Retry(NoBackoff(), 1),
            )
        return client


def ring(center_id: int) -> None:
    """Wake the center's streams. Never raises: a down Redis must not fail the request that committed."""
    url = settings.REDIS_URL
    if not url or time.monotonic() < _paused_until.get(url, 0.0):
        return
    try:
        _publisher(url).publish(channel(center_id), "1")
    except Exception as error:  # whatever Redis or the network did, the commit stands
        _paused_until[url] = time.monotonic() + PUBLISH_PAUSE_SECONDS
        throttled_warning(
            logger, "publish", "live-update doorbell: publish to Redis failed (%s); streams fall back to polling", error
        )


class _Pending(threading.local):
    """The centers this thread's transactions have Events for and have not rung yet."""

    def __init__(self) -> None:
        self.center_ids: set[int] = set()


_pending = _Pending()


def ring_on_commit(center_id: int, using: str | None = None) -> None:
    """Ring the center's doorbell once the current transaction commits (at once outside a transaction).

    Each Event registers an `on_commit` callback, and the first callback of a
    commit rings every center noted so far, so a webhook call that writes two
    or three Events publishes once. A transaction that rolls back drops its
    callbacks and leaves its centers noted: the thread's next commit rings
    them too, a ring too many that only makes streams read once more.
    """
    if not settings.REDIS_URL:
        return
    _pending.center_ids.add(center_id)
    transaction.on_commit(_ring_pending, using=using)


def _ring_pending() -> None:
    center_ids, _pending.center_ids = _pending.center_ids, set()
    for center_id in sorted(center_ids):
        ring(center_id)


# --- listening (asyncio: one subscription per process, one Doorbell per stream) ---------------------


class Doorbell:
    """One stream's share of the process's subscription: rings for its center's channel.

    `connected` False means "poll": there is no REDIS_URL, Redis could not be
    reached, or the subscription broke. `connect` may be called again at any
    time; `retry_at` (event-loop time) says when it is worth it.
    """

    def __init__(self, center_id: int, url: str | None = None) -> None:
        self.channel = channel(center_id)
        self.url = settings.REDIS_URL if url is None else url
        self.retry_at = 0.0
        self._rang = asyncio.Event()
        self._subscription: _Subscription | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    @property
    def connected(self) -> bool:
        return self._subscription is not None

    async def connect(self) -> bool:
        """Join the subscription; True once Redis has confirmed it: every ring published after that reaches us."""
        if not self.url or self._subscription is not None:
            return self._subscription is not None
        subscription = _subscription_for(self.url)
        if await subscription.join(self):
            self._subscription = subscription
            return True
        self.retry_at = subscription.retry_at
        return False

    async def wait(self, timeout: float) -> bool:
        """Until a ring (True) or `timeout` seconds (False); without a subscription, just sleep.

        A subscription that breaks is reported as a ring: a ring may have been
        lost with it, so the stream should read the table now. Rings that
        arrive while the stream reads are answered by its next read.
        """
        if self._subscription is None and not self._rang.is_set():
            await asyncio.sleep(max(timeout, 0))
            return False
        try:
            await asyncio.wait_for(self._rang.wait(), max(timeout, 0))
        except TimeoutError:
            return False
        self._rang.clear()
        return True

    async def close(self) -> None:
        """Leave the subscription; safe to call twice and while Redis is down. Never waits for Redis."""
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            subscription.leave(self)

    def _ring(self) -> None:
        self._rang.set()

    def _lost(self, retry_at: float) -> None:
        self._subscription = None
        self.retry_at = retry_at
        self._rang.set()


class _Subscription:
    """The process's one Redis connection in subscribe mode, shared by its streams.

    It is subscribed to a center's channel while a Doorbell of that center
    has joined, and open while any has. One task reads it and rings the
    Doorbells of each message's channel. When Redis goes away every Doorbell
    is told (`Doorbell._lost`), and joining fails until RESUBSCRIBE_SECONDS
    have passed.
    """

    def __init__(self, url: str, loop: asyncio.AbstractEventLoop) -> None:
        self.url = url
        self.loop = loop
        self.retry_at = 0.0
        self._bells: dict[str, set[Doorbell]] = {}
        self._confirmations: dict[str, asyncio.Future] = {}
        self._client: redis.asyncio.Redis | None = None
        self._pubsub = None
        self._reader: asyncio.Task | None = None
        self._lock = asyncio.Lock()  # joining and tidying one at a time
        self._tasks: set[asyncio.Task] = set()

    async def join(self, bell: Doorbell) -> bool:
        loop = asyncio.get_running_loop()
        async with self._lock:
            if self._pubsub is None and loop.time() < self.retry_at:
                return False
            if bell.channel in self._bells:  # already subscribed for another stream of the center
                self._bells[bell.channel].add(bell)
                return True
            try:
                if self._pubsub is None:
                    self._open()
                confirmed = self._confirmations[bell.channel] = loop.create_future()
                await self._pubsub.subscribe(bell.channel)
                if self._reader is None:
                    self._reader = loop.create_task(self._listen())
                await asyncio.wait_for(asyncio.shield(confirmed), SUBSCRIBE_TIMEOUT_SECONDS)
            except Exception as error:  # unreachable, refused, timed out: the streams poll
                await self._break("cannot subscribe to Redis (%s); streams poll the table", error)
                return False
            except BaseException:  # cancelled half-way (the client went away): nothing may stay subscribed
                self._confirmations.pop(bell.channel, None)
                self._later(self._tidy())
                raise
            self._bells[bell.channel] = {bell}
            return True

    def leave(self, bell: Doorbell) -> None:
        bells = self._bells.get(bell.channel)
        if bells is not None:
            bells.discard(bell)
            if not bells:
                del self._bells[bell.channel]
                self._later(self._tidy())

    def _open(self) -> None:
        self._client = redis.asyncio.Redis.from_url(
            self.url,
            socket_connect_timeout=SUBSCRIBE_TIMEOUT_SECONDS,
            socket_timeout=SUBSCRIBE_TIMEOUT_SECONDS,
            socket_keepalive=True,
            # Errors surface at once; this class decides when to try again.
            retry=AsyncRetry(NoBackoff(), 0),
        )
        self._pubsub = self._client.pubsub()

    async def _listen(self) -> None:
        """Read the subscription: confirm subscribes, ring the Doorbells of each message's channel."""
        pubsub = self._pubsub
        try:
            while True:
                message = await pubsub.get_message(timeout=LISTEN_SECONDS)
                if message is None:
                    continue
                name = message["channel"].decode()
                if message["type"] == "subscribe":
                    confirmed = self._confirmations.pop(name, None)
                    if confirmed is not None and not confirmed.done():
                        confirmed.set_result(True)
                elif message["type"] == "message":
                    for bell in self._bells.get(name, ()):
                        bell._ring()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # Redis went away
            async with self._lock:
                if self._pubsub is pubsub:  # not already broken and opened again meanwhile
                    self._reader = None  # this task ends here: _break must not cancel it
                    await self._break("Redis subscription lost (%s); streams poll the table", error)

    async def _break(self, message: str, error: Exception) -> None:
        """Redis failed: tell every Doorbell, close the connection, and refuse joins for RESUBSCRIBE_SECONDS."""
        throttled_warning(logger, "subscription", "live-update doorbell: " + message, error)
        self.retry_at = asyncio.get_running_loop().time() + RESUBSCRIBE_SECONDS
        for bells in self._bells.values():
            for bell in bells:
                bell._lost(self.retry_at)
        self._bells.clear()
        for confirmed in self._confirmations.values():
            confirmed.cancel()
        self._confirmations.clear()
        await self._close()

    async def _tidy(self) -> None:
        """Unsubscribe from channels no stream listens to; close the connection when none is left."""
        async with self._lock:
            if self._pubsub is None:
                return
            if not self._bells:
                await self._close()
                return
            idle = [name for name in self._pubsub.channels if name.decode() not in self._bells]
            if idle:
                try:
                    await self._pubsub.unsubscribe(*idle)
                except Exception as error:
                    await self._break("Redis subscription lost (%s); streams poll the table", error)

    async def _close(self) -> None:
        reader, self._reader = self._reader, None
        pubsub, client = self._pubsub, self._client
        self._pubsub = self._client = None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(BaseException):
                await reader
        if pubsub is not None:
            try:
                await pubsub.aclose()  # closing the connection ends the subscription on the server
                await client.aclose()
            except Exception as error:
                logger.debug("live-update doorbell: error while closing the subscription: %s", error)

    def _later(self, coroutine) -> None:
        """Run `coroutine` as a task of the subscription's own, so that a stream that ends never waits for Redis."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


_subscriptions: dict[str, _Subscription] = {}


def _subscription_for(url: str) -> _Subscription:
    """The process's subscription to `url`, made on the running event loop (uvicorn runs one loop per process).

    A subscription belongs to the loop that made it; another loop (a test's
    own, say) gets a new one.
    """
    loop = asyncio.get_running_loop()
    subscription = _subscriptions.get(url)
    if subscription is None or subscription.loop is not loop:
        subscription = _subscriptions[url] = _Subscription(url, loop)
    return subscription
