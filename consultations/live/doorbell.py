"""The live-update doorbell: Redis pub/sub that tells a center's streams "look again".

A ring carries nothing: the Event table is the source of truth and the
streams' cursor, so a lost ring costs latency (until the stream's next safety
read), never an event. That is why nothing here may fail a caller: `ring`
runs after a commit and swallows every error, and a stream whose subscription
breaks simply polls the table until `Doorbell.connect` succeeds again.

Without `REDIS_URL` there is no doorbell at all and streams poll.
"""

from __future__ import annotations

import asyncio
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
# subscriptions broke too).
PUBLISH_PAUSE_SECONDS = 1.0
SUBSCRIBE_TIMEOUT_SECONDS = 1.0
# How often a stream whose subscription failed tries again.
RESUBSCRIBE_SECONDS = 3.0


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


class _PendingRings:
    """The centers a transaction will ring on commit: one on_commit callback however many Events it writes."""

    def __init__(self, center_id: int) -> None:
        self.center_ids = {center_id}

    def __call__(self) -> None:
        for center_id in sorted(self.center_ids):
            ring(center_id)


def ring_on_commit(center_id: int, using: str | None = None) -> None:
    """Ring the center's doorbell once the current transaction commits (at once outside a transaction).

    A webhook call writes two or three Events in one transaction: they share
    one callback and one publish per center. The callback is looked up in the
    connection's pending on_commit list, so when a savepoint it was registered
    in rolls back, Django drops it and the next Event registers a new one. (A
    center added inside a savepoint that rolls back stays: one ring too many,
    which only makes streams read once more.)
    """
    if not settings.REDIS_URL:
        return
    connection = transaction.get_connection(using)
    if connection.in_atomic_block:
        for _savepoints, callback, _robust in connection.run_on_commit:
            if isinstance(callback, _PendingRings):
                callback.center_ids.add(center_id)
                return
    transaction.on_commit(_PendingRings(center_id), using=using)


# --- listening (asyncio, one subscription per open stream) ------------------------------------------


class Doorbell:
    """One stream's subscription to its center's channel.

    `connected` False means "poll": there is no REDIS_URL, Redis could not be
    reached, or the subscription broke. `connect` may be called again at any
    time; `retry_at` says when it is worth it.
    """

    def __init__(self, center_id: int, url: str | None = None) -> None:
        self.channel = channel(center_id)
        self.url = settings.REDIS_URL if url is None else url
        self.retry_at = 0.0
        self._client: redis.asyncio.Redis | None = None
        self._pubsub = None

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    @property
    def connected(self) -> bool:
        return self._pubsub is not None

    async def connect(self) -> bool:
        """Subscribe, and wait for Redis to confirm: every ring published after this returns True reaches us."""
        if not self.url or self._pubsub is not None:
            return self._pubsub is not None
        client = redis.asyncio.Redis.from_url(
            self.url,
            socket_connect_timeout=SUBSCRIBE_TIMEOUT_SECONDS,
            socket_timeout=SUBSCRIBE_TIMEOUT_SECONDS,
            socket_keepalive=True,
            # Errors surface at once; this class decides when to try again.
            retry=AsyncRetry(NoBackoff(), 0),
        )
        pubsub = client.pubsub()
        subscribed = False
        try:
            await pubsub.subscribe(self.channel)
            confirmation = await pubsub.get_message(timeout=SUBSCRIBE_TIMEOUT_SECONDS)
            if not confirmation or confirmation.get("type") != "subscribe":
                raise redis.RedisError("Redis did not confirm the subscription")
            subscribed = True
        except Exception as error:  # unreachable, refused, timed out: the stream polls
            self.retry_at = asyncio.get_running_loop().time() + RESUBSCRIBE_SECONDS
            throttled_warning(
                logger,
                "subscribe",
                "live-update doorbell: cannot subscribe to Redis (%s); streams poll the table",
                error,
            )
        finally:
            if not subscribed:  # also when cancelled half-way: nothing may stay open
                await _close(pubsub, client)
        if subscribed:
            self._client, self._pubsub = client, pubsub
        return subscribed

    async def wait(self, timeout: float) -> bool:
        """Until a ring (True) or `timeout` seconds (False); without a subscription, just sleep.

        A subscription that breaks is closed and reported as a ring: a ring may
        have been lost with it, so the stream should read the table now.
        """
        if self._pubsub is None:
            await asyncio.sleep(max(timeout, 0))
            return False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while (remaining := deadline - loop.time()) > 0:
                message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=remaining)
                if message is not None and message.get("type") == "message":
                    # Rings already queued behind this one are answered by the same read.
                    for _ in range(100):
                        if await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=0) is None:
                            break
                    return True
            return False
        except Exception as error:  # Redis went away mid-stream
            throttled_warning(
                logger, "listen", "live-update doorbell: Redis subscription lost (%s); streams poll the table", error
            )
            await self.close()
            self.retry_at = loop.time() + RESUBSCRIBE_SECONDS
            return True

    async def close(self) -> None:
        """Unsubscribe and close the connection; safe to call twice and while Redis is down."""
        pubsub, client = self._pubsub, self._client
        self._pubsub = self._client = None
        if pubsub is not None:
            await _close(pubsub, client)


async def _close(pubsub, client) -> None:
    try:
        await pubsub.aclose()  # closing the connection ends the subscription on the server
        await client.aclose()
    except Exception as error:
        logger.debug("live-update doorbell: error while closing a subscription: %s", error)
