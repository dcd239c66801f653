"""The ASGI entry point refuses an over-long header with a JSON 431 instead of Django's 500."""

import asyncio
import json

from counsel_center.asgi import MAX_HEADER_BYTES, application


def call(headers):
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/channel/alpha/events", "headers": headers, "query_string": b""}
    asyncio.run(application(scope, receive, send))
    return sent


def test_it_refuses_an_over_long_header_with_431():
    sent = call([(b"content-type", b"application/json;" + b"x" * MAX_HEADER_BYTES)])

    assert sent[0]["status"] == 431
    assert json.loads(sent[1]["body"])["error"] == "header_too_large"
