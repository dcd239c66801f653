"""The database side of the live-update stream: who is asking, and the Event rows after a cursor.

Everything here is synchronous and runs on `run`'s few threads, never on the
event loop. Each call borrows a database connection and gives it back before
returning (Django's request rule: `close_old_connections` before and after),
so an open stream holds no connection between reads, whatever the number of
streams; with CONN_MAX_AGE=0 or the psycopg pool the connection is closed or
returned to the pool.

Order and cursor: a stream sends a center's Events in `(xid, id)` order,
where `xid` is the id of the transaction that inserted the row (the column's
database default, `models.TransactionId`). Transactions commit in any order,
so on PostgreSQL a read sends only the Events of transactions below
`pg_snapshot_xmin(pg_current_snapshot())`, the oldest transaction its own
snapshot still sees running: every transaction below it has committed or
rolled back, so no Event can appear there any more, and each one that will
appear sorts after what was sent. The rest are "held": committed perhaps,
but sent once the transactions before them have ended. That rests on the
database's snapshot, not on timing. SQLite's IMMEDIATE transactions write one
at a time, so there every `xid` is 0, ids follow commit order and nothing is
held.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http import HTTPStatus
from importlib import import_module
from types import SimpleNamespace

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import auth
from django.db import close_old_connections, connection
from django.db.models import BigIntegerField, F, Func, Q, Value
from django.db.models.lookups import GreaterThan, LessThan

from counsel_center.membership import current_member

from ..models import Event

BATCH_SIZE = 500
MAX_ID = 2**63 - 1  # xid and id are 64-bit: a larger cursor would fail in the database
# Event kinds after which the console's tab counts may have changed.
COUNTED_KINDS = frozenset(kind for kind in Event.Kind.values if kind.startswith("consultation.")) | {Event.Kind.MESSAGE}
# Event kinds that add or change a line of a consultation's conversation (the chat's lines).
CONVERSATION_KINDS = COUNTED_KINDS | {Event.Kind.DELIVERY, Event.Kind.FILE_READY, Event.Kind.CUSTOMER_BLOCKED}

# Reads of all streams of the process share these threads: at most this many
# connections are in use for streams at any moment, and the threads that
# Django's ASGI handler gives each request stay untouched.
_threads = ThreadPoolExecutor(max_workers=4, thread_name_prefix="live-feed")


async def run(function, *args):
    """`function(*args)` on the feed's threads, with the connection rule of the module docstring."""
    return await sync_to_async(_with_connection, thread_sensitive=False, executor=_threads)(function, *args)


def _with_connection(function, *args):
    close_old_connections()
    try:
        return function(*args)
    finally:
        close_old_connections()


# --- the cursor ------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Cursor:
    """A place in a center's stream: every Event up to `(xid, id)` has been sent.

    Written `<xid>-<id>`: the SSE `id:` of each event, so a browser's
    reconnect (`Last-Event-ID`) resumes after it.
    """

    xid: int = 0
    id: int = 0

    FORMAT = re.compile(r"(\d{1,19})-(\d{1,19})")

    def __str__(self) -> str:
        return f"{self.xid}-{self.id}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        """The cursor written in `text`; ValueError when it is not `<xid>-<id>` of two 64-bit numbers."""
        match = cls.FORMAT.fullmatch(text.strip())
        if match is None:
            raise ValueError(text)
        xid, event_id = int(match[1]), int(match[2])
        if xid > MAX_ID or event_id > MAX_ID:
            raise ValueError(text)
        return cls(xid, event_id)


class Horizon(Func):
    """The lowest transaction id still running in the query's own snapshot (PostgreSQL); every lower one has ended.

    `pg_snapshot_xmin(pg_current_snapshot())`, an xid8, as a bigint like
    `Event.xid`. The snapshot is the statement's own, so an Event below the
    horizon is visible to the same statement if it was ever committed. On
    SQLite nothing is held back: the largest bigint. One template rather
    than nested Func and Cast expressions: every read of every stream
    compiles it, and each nested expression costs its own compilation.
    """

    template = "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
    output_field = BigIntegerField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return str(MAX_ID), []


class Row(Func):
    """A row value, `(a, b)`, compared as a whole: `(xid, id) > (x, i)` is one seek of an index on them."""

    template = "(%(expressions)s)"
    output_field = BigIntegerField()


def after(cursor: Cursor):
    """The filter "after `cursor` in stream order", answered by one seek of the (center, xid, id) index."""
    if connection.vendor == "postgresql":
        return GreaterThan(Row(F("xid"), F("id")), Row(Value(cursor.xid), Value(cursor.id)))
    # SQLite: every xid is 0 (see the module docstring); its planner would scan the whole center for a row value.
    return Q(xid=cursor.xid, id__gt=cursor.id)


# --- who is asking ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reader:
    """A signed-in member allowed to read the center's events, as of when they were checked."""

    user_id: int
    member_id: int
    center_id: int
    session_key: str


def open_stream(request, cursor: Cursor | None) -> tuple[Reader | None, Cursor | HTTPStatus]:
    """The request's member and the stream's starting cursor, or why there is no stream (401, 403).

    The center is chosen as on every console page (`membership.current_member`).
    Without a cursor the stream starts "now".
    """
    user = request.user  # loads the session and the user here, off the event loop
    if not (user.is_authenticated and user.is_active):
        return None, HTTPStatus.UNAUTHORIZED
    member = current_member(request)
    if member is None:
        return None, HTTPStatus.FORBIDDEN
    reader = Reader(
        user_id=user.pk, member_id=member.pk, center_id=member.center_id, session_key=request.session.session_key
    )
    return reader, start_cursor(member.center_id) if cursor is None else cursor


class _SessionCopy(dict):
    """A session's data as `auth.get_user` reads it, without its writes.

    On a session whose password hash no longer verifies, `get_user` flushes
    it; on one verified by a fallback secret it re-keys it. Both need a
    response to tell the browser, and a stream has sent its headers long ago:
    the browser's next request meets Django's own check instead.
    """

    def flush(self) -> None:
        self.clear()

    def cycle_key(self) -> None:
        pass


def still_reader(reader: Reader) -> bool:
    """Is the stream's session still signed in as the same member of the same center?

    The session is read afresh from the store and checked by `auth.get_user`,
    as for a request: a logout, a password change, a deactivated user or
    membership, or a switch to another center ends the stream, and the
    browser's reconnect then meets the login check.
    """
    stored = import_module(settings.SESSION_ENGINE).SessionStore(session_key=reader.session_key)
    session = _SessionCopy(stored.items())
    user = auth.get_user(SimpleNamespace(session=session))
    if not user.is_authenticated or user.pk != reader.user_id:
        return False
    member = current_member(SimpleNamespace(session=session, user=user))
    return member is not None and member.pk == reader.member_id


# --- reading events --------------------------------------------------------------------------------


def start_cursor(center_id: int) -> Cursor:
    """The cursor of a stream that starts "now": after the center's last Event below the horizon.

    An Event above it was not sent and will be (a page rendered now may
    show it and then refresh once more for it); none below it can appear.
    """
    last = (
        Event.objects.filter(center_id=center_id, xid__lt=Horizon())
        .order_by("-xid", "-id")
        .values_list("xid", "id")
        .first()
    )
    return Cursor(*last) if last else Cursor()


@dataclass(frozen=True)
class Batch:
    """The settled Events after a cursor, already written as SSE messages."""

    text: str
    last: Cursor | None  # the cursor after them; None when there were none
    count: int
    held: bool  # Events after these were committed but wait for older transactions (module docstring)


FIELDS = (
    "xid",
    "id",
    "kind",
    "customer_id",
    "actor_id",
    "created_at",
    "data",
    "consultation__public_id",
    "consultation__assignee_id",
    "consultation__status",
    "settled",
)


def read_after(center_id: int, cursor: Cursor) -> Batch:
    """The center's next Events after `cursor` (at most BATCH_SIZE), in stream order, as SSE text.

    One query: the rows after the cursor, each marked settled (below the
    horizon) or not. Settled rows sort first; the first unsettled one and all
    after it are held for a later read.
    """
    rows = list(
        Event.objects.filter(after(cursor), center_id=center_id)
        .annotate(settled=LessThan(F("xid"), Horizon()))
        .order_by("xid", "id")
        .values_list(*FIELDS)[:BATCH_SIZE]
    )
    settled = 0
    while settled < len(rows) and rows[settled][-1]:
        settled += 1
    sent = rows[:settled]
    return Batch(
        text=sse_messages(sent),
        last=Cursor(sent[-1][0], sent[-1][1]) if sent else None,
        count=len(sent),
        held=settled < len(rows),
    )


def sse_messages(rows: list[tuple]) -> str:
    """One SSE message per row, then what changed, for the page to refresh (no `id:`: they must not move the cursor).

    - `counts.changed` (`{"id": <last event id>}`) when the tab counts may differ;
    - `consultation.changed` (the public id) for each consultation whose state, assignee or flags changed;
    - `conversation.changed` (the public id) for each consultation with a new or changed chat line;
    - `customer.changed` (the customer id) for each customer whose details or block changed.
    """
    parts = []
    counted = False
    changed: dict[str, dict[str, None]] = {"consultation": {}, "conversation": {}, "customer": {}}
    for xid, event_id, kind, customer_id, actor_id, at, data, public_id, assignee_id, status, _ in rows:
        data = data if isinstance(data, dict) else {}
        payload = {
            "id": event_id,
            "kind": kind,
            "consultation": public_id,
            "customer": customer_id,
            "actor": actor_id,
            "assignee": assignee_id,
            "status": status,
            "message": data.get("message_id") if kind.startswith("message.") else None,
            "sender": data.get("sender"),
            "at": at.isoformat(),
        }
        parts.append(f"id: {Cursor(xid, event_id)}\nevent: {kind}\ndata: {_json(payload)}\n\n")
        counted = counted or kind in COUNTED_KINDS
        if public_id and kind.startswith("consultation."):
            changed["consultation"][public_id] = None
        if public_id and kind in CONVERSATION_KINDS:
            changed["conversation"][public_id] = None
        if customer_id and kind.startswith("customer."):
            changed["customer"][str(customer_id)] = None
    if counted:
        parts.append(f"event: counts.changed\ndata: {_json({'id': rows[-1][1]})}\n\n")
    for what, keys in changed.items():
        parts.extend(f"event: {what}.changed\ndata: {key}\n\n" for key in keys)
    return "".join(parts)


def _json(value) -> str:
    return json.dumps(value, separators=(",", ":"))
