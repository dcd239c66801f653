"""Signed webhook calls as a channel would make them, for the contract tests."""

from __future__ import annotations

import hashlib
import itertools
import json
import time

from django.test import Client
from django.urls import reverse

from consultations.channel import signing

_ids = itertools.count(1)


def text_event(text: str = "안녕하세요", *, user_key: str = "kakao-user-1", **extra) -> dict:
    event = {
        "event_id": f"evt-{next(_ids)}",
        "type": "message",
        "user_key": user_key,
        "profile_nickname": "김민지",
        "is_friend": True,
        "message": {"kind": "text", "text": text},
    }
    event.update(extra)
    return event


def file_event(content: bytes, *, name: str = "photo.png", kind: str = "image", user_key: str = "kakao-user-1"):
    return {
        "event_id": f"evt-{next(_ids)}",
        "type": "message",
        "user_key": user_key,
        "profile_nickname": "김민지",
        "message": {
            "kind": kind,
            "file": {"name": name, "size": len(content), "sha256": hashlib.sha256(content).hexdigest()},
        },
    }


def post_json(
    client: Client,
    slug: str,
    body: bytes | str | dict,
    *,
    secret: str | None,
    timestamp: int | None = None,
    sign_body: bytes | None = None,
    headers: dict | None = None,
    content_type: str = "application/json",
):
    """POST `body` to the center's webhook, signed with `secret` (None: unsigned)."""
    if isinstance(body, dict):
        body = json.dumps(body, ensure_ascii=False)
    if isinstance(body, str):
        body = body.encode()
    all_headers = {}
    if secret is not None:
        ts = int(time.time()) if timestamp is None else timestamp
        all_headers = {
            signing.TIMESTAMP_HEADER: str(ts),
            signing.SIGNATURE_HEADER: signing.signature(secret, ts, body if sign_body is None else sign_body),
        }
    all_headers.update(headers or {})
    return client.post(
        reverse("channel-events", args=[slug]), data=body, content_type=content_type, headers=all_headers
    )


def post_multipart(client: Client, slug: str, event: dict | str, files: dict, *, secret: str):
    """POST a multipart event (`event` field, signed) with the given file parts."""
    event_text = event if isinstance(event, str) else json.dumps(event, ensure_ascii=False)
    ts = int(time.time())
    headers = {
        signing.TIMESTAMP_HEADER: str(ts),
        signing.SIGNATURE_HEADER: signing.signature(secret, ts, event_text.encode()),
    }
    return client.post(reverse("channel-events", args=[slug]), data={"event": event_text, **files}, headers=headers)
