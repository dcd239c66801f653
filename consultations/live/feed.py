"""The database side of the live-update stream: who is asking, and the Event rows after a cursor.

Everything here is synchronous and runs on `run`'s few threads, never on the
event loop. Each call borrows a database connection and gives it back before
returning (Django's request rule: `close_old_connections` before and after),
so an open stream holds no connection between reads, whatever the number of
streams; with CONN_MAX_AGE=0 or the psycopg pool the connection is closed or
returned to the pool.

Ids and commit order: on PostgreSQL Event ids come from a sequence when a row
is inserted, but transactions commit in their own order, so id 101 can be
visible while id 100 is still uncommitted. A stream that sent 101 and moved its
cursor there would never send 100. Before reading past its cursor a stream
therefore waits for the transactions that were writing Events when it looked
(`settled_upto`), and reads only ids allocated before that moment. SQLite
needs no such care: its IMMEDIATE transactions write one at a time.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http import HTTPStatus
from importlib import import_module
from types import SimpleNamespace

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import auth
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection
from django.db.models import Max
from django.utils.crypto import constant_time_compare

from counsel_center.membership import current_member

from ..models import Event

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
# Longest wait for Event writers that were in flight when a stream looked; a
# writer stuck longer (a rare long transaction) no longer holds the streams
# back, at the risk of its rows arriving after higher ids.
SETTLE_MAX_SECONDS = 2.0
# Event kinds after which the console's tab counts may have changed.
COUNTED_KINDS = frozenset(kind for kind in Event.Kind.values if kind.startswith("consultation.")) | {Event.Kind.MESSAGE}

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


# --- who is asking ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reader:
    """A signed-in member allowed to read the center's events, as of when they were checked."""

    user_id: int
    member_id: int
    center_id: int
    session_key: str


def open_stream(request, cursor: int | None) -> tuple[Reader | None, int | HTTPStatus]:
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


def still_reader(reader: Reader) -> bool:
    """Is the stream's session still signed in as the same member of the same center?

    Read afresh from the session store, as `auth.get_user` checks a session
    but without its writes (it flushes or re-keys a session, which only a
    response can tell the browser): a logout, a password change, a deactivated
    user or membership, or a switch to another center ends the stream, and the
    browser's reconnect then meets the login check.
    """
    session = import_module(settings.SESSION_ENGINE).SessionStore(reader.session_key)
    try:
        user_id = auth.get_user_model()._meta.pk.to_python(session[auth.SESSION_KEY])
        backend_path = session[auth.BACKEND_SESSION_KEY]
    except (KeyError, ValidationError):
        return False
    if user_id != reader.user_id or backend_path not in settings.AUTHENTICATION_BACKENDS:
        return False
    user = auth.load_backend(backend_path).get_user(user_id)
    if user is None:
        return False
    session_hash = session.get(auth.HASH_SESSION_KEY) or ""
    if hasattr(user, "get_session_auth_hash") and not any(
        constant_time_compare(session_hash, known)
        for known in (user.get_session_auth_hash(), *user.get_session_auth_fallback_hash())
    ):
        return False
    member = current_member(SimpleNamespace(session=session, user=user))
    return member is not None and member.pk == reader.member_id


# --- reading events --------------------------------------------------------------------------------


def start_cursor(center_id: int) -> int:
    """The cursor of a stream that starts "now": the center's last event id, with no lower id still on its way."""
    settled = _settled  # known before the read: ids up to it were all visible to it
    events = Event.objects.filter(center_id=center_id)
    last = events.aggregate(last=Max("id"))["last"] or 0
    if last > settled and connection.vendor == "postgresql":
        # Read again up to a settled id: lower ids may have committed since.
        last = events.filter(id__lte=settled_upto(last)).aggregate(last=Max("id"))["last"] or 0
    return last


@dataclass(frozen=True)
class Batch:
    """Event rows after a cursor, already written as SSE messages."""

    text: str
    last_id: int | None
    count: int


FIELDS = (
    "id",
    "kind",
    "customer_id",
    "actor_id",
    "created_at",
    "data",
    "consultation__public_id",
    "consultation__assignee_id",
    "consultation__status",
)


def _rows(center_id: int, cursor: int, upto: int | None = None) -> list[tuple]:
    events = Event.objects.filter(center_id=center_id, id__gt=cursor)
    if upto is not None:
        events = events.filter(id__lte=upto)
    return list(events.order_by("id").values_list(*FIELDS)[:BATCH_SIZE])


def read_after(center_id: int, cursor: int) -> Batch:
    """The center's next events after `cursor` (at most BATCH_SIZE), in id order, as SSE text."""
    settled = _settled  # known before the read: ids up to it were all visible to it
    rows = _rows(center_id, cursor)
    if rows and rows[-1][0] > settled and connection.vendor == "postgresql":
        # Rows past what is known to be settled: read again up to a settled id,
        # as lower ids may have committed since (module docstring).
        rows = _rows(center_id, cursor, upto=settled_upto(rows[-1][0]))
    return Batch(text=sse_messages(rows), last_id=rows[-1][0] if rows else None, count=len(rows))


def sse_messages(rows: list[tuple]) -> str:
    """One SSE message per row, then `counts.changed` (no id: it must not move the cursor) if counts may differ."""
    parts = []
    counted = False
    for event_id, kind, customer_id, actor_id, at, data, public_id, assignee_id, status in rows:
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
        parts.append(f"id: {event_id}\nevent: {kind}\ndata: {json.dumps(payload, separators=(',', ':'))}\n\n")
        counted = counted or kind in COUNTED_KINDS
    if counted:
        parts.append(f"event: counts.changed\ndata: {json.dumps({'id': rows[-1][0]}, separators=(',', ':'))}\n\n")
    return "".join(parts)


# Every Event id up to `_settled` is committed or gone for good. Once true it
# stays true, so one stream's wait serves every stream of the process: after a
# ring, the first read waits for the writers and the others find their rows
# settled. A read may rely on the value it saw before it ran, not on a later
# one (ids below a later value may have committed after the read). A database
# whose sequence is reset needs the processes restarted.
_settled = 0
_settle_lock = threading.Lock()
_given_up: set[str] = set()  # writers waited for SETTLE_MAX_SECONDS already


def settled_upto(needed: int) -> int:
    """An id, at least `needed` (an id already drawn), up to which every Event is settled.

    One thread at a time waits for writers; the others then find the answer known.
    """
    global _settled
    with _settle_lock:
        if _settled < needed:
            _settled = max(_settled, _wait_for_writers())
        return _settled


def _wait_for_writers() -> int:
    """An id up to which every Event is committed or gone for good (PostgreSQL).

    First the sequence's last value, then the transactions holding the
    RowExclusiveLock that inserting into the Event table takes before its
    row's id is drawn: any id up to that value still uncommitted belongs to one
    of them. Wait until they have ended (each holds a lock on its own virtual
    transaction id until then), for SETTLE_MAX_SECONDS at most.
    """
    table = Event._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sequence_last_value(pg_get_serial_sequence(%s, 'id')::regclass)", [table])
        upto = cursor.fetchone()[0] or 0
        cursor.execute(
            "SELECT array_agg(DISTINCT virtualtransaction) FROM pg_locks"
            " WHERE locktype = 'relation' AND relation = %s::regclass AND mode = 'RowExclusiveLock'"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND pid <> pg_backend_pid()",
            [table],
        )
        writers = [writer for writer in cursor.fetchone()[0] or () if writer not in _given_up]
        deadline = time.monotonic() + SETTLE_MAX_SECONDS
        pause = 0.002
        while writers:
            if time.monotonic() >= deadline:
                logger.warning(
                    "live updates: Event writers %s still open after %s s; reading on", writers, SETTLE_MAX_SECONDS
                )
                if len(_given_up) > 1000:  # virtual transaction ids are not reused soon; keep the set small
                    _given_up.clear()
                _given_up.update(writers)  # a stuck transaction delays the streams once, not at every read
                break
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
            cursor.execute(
                "SELECT array_agg(virtualxid) FROM pg_locks WHERE locktype = 'virtualxid' AND virtualxid = ANY(%s)",
                [writers],
            )
            writers = cursor.fetchone()[0]
    return upto
