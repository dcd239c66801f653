"""Live updates: the Server-Sent Events stream of a center's Event rows (docs/architecture.md, "Live updates").

- `doorbell`: Redis pub/sub that only says "look again"; `ring_on_commit`
  is called wherever an Event is created, and a process's streams share one
  subscription (`Doorbell` is a stream's share of it).
- `feed`: the synchronous database side (who is asking, reading Event rows
  after a cursor, in the order the database's transaction ids give), run off
  the event loop on a few threads of its own.
- the async view `GET /events/stream` that serves them is the console's:
  console/views/stream.py.

This package's `__init__` imports nothing of the project: `lifecycle` imports
`doorbell`, and the stream's modules import models.
"""

import logging
import math
import time

_last_warning: dict[str, float] = {}
WARN_EVERY_SECONDS = 60.0


def throttled_warning(logger: logging.Logger, kind: str, message: str, *args, exc_info: bool = False) -> None:
    """Log a warning of this kind at most once a minute: an outage must not flood the log from every stream."""
    now = time.monotonic()
    if now - _last_warning.get(kind, -math.inf) >= WARN_EVERY_SECONDS:
        _last_warning[kind] = now
        logger.warning(message, *args, exc_info=exc_info)
