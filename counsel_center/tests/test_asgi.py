"""The ASGI entry point, in process: Django's own handler behind the request limits."""

import asyncio
import json

import pytest
from django.db import connection

from counsel_center.asgi import application
from counsel_center.request_limits import MAX_HEADER_BYTES


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


# --- Django's own ASGI handler, behind the request limits ---------------------------------------------


def asgi_request(method, path, *, body=b"", headers=()):
    """One request through the product's ASGI application, in process: (status, headers, body)."""
    sent = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        if messages:
            return messages.pop()
        await asyncio.sleep(60)  # the client stays connected until the response is sent

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [*headers] if any(key == b"host" for key, _ in headers) else [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    asyncio.run(application(scope, receive, send))
    response_headers = [(key.decode().lower(), value.decode()) for key, value in sent[0]["headers"]]
    return sent[0]["status"], response_headers, b"".join(message.get("body", b"") for message in sent[1:])


def test_pages_get_their_middleware_under_asgi(transactional_db):
    status, headers, body = asgi_request("GET", "/login/")

    assert status == 200
    assert "로그인" in body.decode() or "Log in" in body.decode()
    assert any(key == "set-cookie" and value.startswith("csrftoken=") for key, value in headers)
    assert ("x-frame-options", "DENY") in headers


def test_a_signed_webhook_event_is_stored_under_asgi(transactional_db):
    from consultations.channel import signing
    from consultations.models import Message
    from counsel_center.tests.factories import CenterFactory

    center = CenterFactory(slug="asgi", webhook_secret="asgi-secret")
    statuses = []
    for n in range(20):  # more requests than one thread: the pooled threads hand their connections back
        body = json.dumps(
            {
                "event_id": f"asgi-{n}",
                "type": "message",
                "user_key": f"u{n % 3}",
                "message": {"kind": "text", "text": f"문의 {n}"},
            }
        ).encode()
        signed = signing.signed_headers(center.webhook_secret, body)
        headers = [(b"content-type", b"application/json")] + [
            (k.lower().encode(), v.encode()) for k, v in signed.items()
        ]
        status, _, answer = asgi_request("POST", "/channel/asgi/events", body=body, headers=headers)
        statuses.append(status)

    assert statuses == [200] * 20
    assert json.loads(answer)["duplicate"] is False
    assert Message.objects.filter(consultation__center=center).count() == 20


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="counts the server's PostgreSQL backends")
def test_requests_leave_no_database_connection_open(transactional_db):
    for _ in range(5):  # each request in a thread of its own, which opens its own connection
        status, _, _ = asgi_request("GET", "/login/")  # reads the database (the session, the site)
        assert status == 200
    asgi_request("POST", "/channel/nope/events", body=b"{}", headers=[(b"content-type", b"application/json")])

    # CONN_MAX_AGE is 0 in tests: Django's request_finished closed each request's connection.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert cursor.fetchone()[0] == 0


def test_the_webhook_answers_without_cookies_and_keeps_the_host_check(transactional_db):
    from consultations.channel import signing
    from counsel_center.tests.factories import CenterFactory

    CenterFactory(slug="asgi", webhook_secret="asgi-secret")
    signed = [(k.lower().encode(), v.encode()) for k, v in signing.signed_headers("asgi-secret", b"{}").items()]
    json_headers = [(b"content-type", b"application/json"), *signed]

    status, headers, body = asgi_request("POST", "/channel/asgi/events", body=b"{}", headers=json_headers)
    assert status == 400 and json.loads(body)["error"] == "missing_field"  # the view read it
    assert not any(key == "set-cookie" for key, _ in headers)  # no session, no CSRF cookie, no language
    assert ("x-content-type-options", "nosniff") in headers  # SecurityMiddleware answers

    bad_host = [(b"host", b"evil.example"), *json_headers]
    status, headers, _ = asgi_request("POST", "/channel/asgi/events", body=b"{}", headers=bad_host)
    assert status == 400  # ALLOWED_HOSTS, checked by CommonMiddleware
    assert ("content-type", "application/json") not in headers  # Django's page, not the view's JSON
