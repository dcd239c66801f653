"""The channel's request signature (SPEC §7), used both ways.

`X-Channel-Signature: sha256=<hex>` is HMAC-SHA256 with the center's webhook
secret over `<timestamp>.<event JSON text>`, where `X-Channel-Timestamp` is
unix seconds and must be within MAX_SKEW_SECONDS of our clock.
"""

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-Channel-Timestamp"
SIGNATURE_HEADER = "X-Channel-Signature"
MAX_SKEW_SECONDS = 300


class SignatureError(Exception):
    """The request is not signed, or not signed by the center (→ 401)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signed_headers(secret: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """The two headers that sign `body` now (or at `timestamp`)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: signature(secret, timestamp, body)}


def check_headers(*, timestamp: str | None, given: str | None, now: float | None = None) -> None:
    """Raise SignatureError unless both headers are there and the timestamp is recent: what needs no body."""
    if not timestamp or not given:
        raise SignatureError("missing_signature", f"{TIMESTAMP_HEADER} and {SIGNATURE_HEADER} are required.")
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise SignatureError("bad_timestamp", f"{TIMESTAMP_HEADER} must be unix seconds.")
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > MAX_SKEW_SECONDS:
        raise SignatureError("stale_timestamp", f"{TIMESTAMP_HEADER} is more than {MAX_SKEW_SECONDS} s off.")


def verify(secret: str, *, timestamp: str | None, given: str | None, body: bytes, now: float | None = None) -> None:
    """Raise SignatureError unless `given` signs `body` at `timestamp` with `secret`, recently enough."""
    check_headers(timestamp=timestamp, given=given, now=now)
    if not hmac.compare_digest(signature(secret, timestamp, body).encode(), given.strip().encode("utf-8", "replace")):
        raise SignatureError("bad_signature", "The signature does not match.")
