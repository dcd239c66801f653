"""The inbound event of the channel contract (SPEC §7), parsed and validated.

`parse_event` turns the signed JSON text into an `InboundEvent` or raises
`ChannelError` with the HTTP status, a stable error code and a readable detail.
Nothing here touches the database.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from ..lifecycle import MAX_TEXT_LENGTH
from ..models import Message

EVENT_TYPES = ("message", "chatbot_switch", "friend_status")
MESSAGE_KINDS = tuple(Message.Kind.values)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
SENT_AT_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


class ChannelError(Exception):
    """A refused inbound request: answered with `status` and {"error": code, "detail": detail}."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


def bad(code: str, detail: str) -> ChannelError:
    return ChannelError(400, code, detail)


@dataclass(frozen=True)
class DeclaredFile:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class InboundEvent:
    event_id: str
    type: str
    user_key: str
    profile_nickname: str | None
    is_friend: bool | None
    sent_at: datetime | None
    kind: str | None = None
    text: str = ""
    file: DeclaredFile | None = None


def _string(data: dict, field: str, *, required: bool, max_length: int) -> str | None:
    value = data.get(field)
    if value is None:
        if required:
            raise bad("missing_field", f"`{field}` is required.")
        return None
    if not isinstance(value, str):
        raise bad("invalid_field", f"`{field}` must be a string.")
    if required and not value.strip():
        raise bad("missing_field", f"`{field}` must not be empty.")
    if len(value) > max_length:
        raise bad("invalid_field", f"`{field}` is longer than {max_length} characters.")
    return value


def _bool(data: dict, field: str, *, required: bool) -> bool | None:
    value = data.get(field)
    if value is None:
        if required:
            raise bad("missing_field", f"`{field}` is required.")
        return None
    if not isinstance(value, bool):
        raise bad("invalid_field", f"`{field}` must be true or false.")
    return value


def _sent_at(data: dict) -> datetime | None:
    raw = _string(data, "sent_at", required=False, max_length=64)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise bad("invalid_field", "`sent_at` must be an ISO 8601 date-time.") from None
    if timezone.is_naive(moment):
        raise bad("invalid_field", "`sent_at` must carry a time zone offset.")
    try:
        # Stored in UTC: odd offsets (seconds, ±23:59) are fine in Python but not in every database.
        moment = moment.astimezone(UTC)
    except OverflowError:
        raise bad("invalid_field", "`sent_at` is out of range.") from None
    if not SENT_AT_EARLIEST <= moment <= timezone.now() + timedelta(days=1):
        raise bad("invalid_field", "`sent_at` is not a plausible time for a message.")
    return moment


def _check_strings(value) -> None:
    """Every string must be storable: valid Unicode (JSON escapes can spell lone surrogates) and free of
    NUL, which PostgreSQL text cannot hold."""
    if isinstance(value, str):
        if "\x00" in value:
            raise bad("invalid_field", "Text must not contain NUL characters.")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise bad("invalid_json", "The event contains text that is not valid Unicode.") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key)
            _check_strings(item)
    elif isinstance(value, list):
        for item in value:
            _check_strings(item)


def _declared_file(message: dict) -> DeclaredFile:
    described = message.get("file")
    if not isinstance(described, dict):
        raise bad("bad_attachment", "`message.file` must describe the attached file (name, size, sha256).")
    name = _string(described, "name", required=True, max_length=255)
    size = described.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise bad("bad_attachment", "`message.file.size` must be a non-negative integer.")
    sha256 = described.get("sha256")
    if not isinstance(sha256, str) or not _SHA256.match(sha256.lower()):
        raise bad("bad_attachment", "`message.file.sha256` must be 64 hexadecimal characters.")
    if "/" in name or "\\" in name or "\x00" in name:
        raise bad("bad_attachment", "`message.file.name` must be a plain file name.")
    return DeclaredFile(name=name, size=size, sha256=sha256.lower())


def parse_event(text: str) -> InboundEvent:
    """Validate the event JSON text of a signed request."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise bad("invalid_json", "The event is not valid JSON.") from None
    if not isinstance(data, dict):
        raise bad("invalid_event", "The event must be a JSON object.")
    try:
        _check_strings(data)
    except RecursionError:
        raise bad("invalid_json", "The event is nested too deeply.") from None
    event_id = _string(data, "event_id", required=True, max_length=200)
    event_type = data.get("type")
    if event_type is None:
        raise bad("missing_field", "`type` is required.")
    if event_type not in EVENT_TYPES:
        raise bad("unknown_type", f"`type` must be one of: {', '.join(EVENT_TYPES)}.")
    common = {
        "event_id": event_id,
        "type": event_type,
        "user_key": _string(data, "user_key", required=True, max_length=200),
        "profile_nickname": _string(data, "profile_nickname", required=False, max_length=100),
        "is_friend": _bool(data, "is_friend", required=event_type == "friend_status"),
        "sent_at": _sent_at(data),
    }
    if event_type != "message":
        return InboundEvent(**common)
    message = data.get("message")
    if not isinstance(message, dict):
        raise bad("missing_field", "`message` is required for a message event.")
    kind = message.get("kind")
    if kind not in MESSAGE_KINDS:
        raise bad("unknown_kind", f"`message.kind` must be one of: {', '.join(MESSAGE_KINDS)}.")
    text_value = message.get("text", "")
    if text_value is None:
        text_value = ""
    if not isinstance(text_value, str):
        raise bad("invalid_field", "`message.text` must be a string.")
    if len(text_value) > MAX_TEXT_LENGTH:
        raise bad("text_too_long", f"`message.text` is longer than {MAX_TEXT_LENGTH} characters.")
    if kind == Message.Kind.TEXT:
        if not text_value.strip():
            raise bad("missing_field", "`message.text` must not be empty for a text message.")
        if "file" in message:
            raise bad("bad_attachment", "A text message cannot describe a file.")
        return InboundEvent(**common, kind=kind, text=text_value)
    return InboundEvent(**common, kind=kind, text=text_value, file=_declared_file(message))
