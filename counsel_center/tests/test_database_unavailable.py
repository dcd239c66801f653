"""A request that meets a database error answers 503 with Retry-After, never a 500 or a traceback (issue 19).

The database is made unreachable for the request with Django's documented
`connection.execute_wrapper`: each query raises the `OperationalError` that
Django raises when the driver cannot reach the server. The test client runs the
request in this thread, on this connection. The same against a real PostgreSQL
stopped and started again under real servers: test_database_restart.py.
"""

import json
import logging
from contextlib import contextmanager

import pytest
from django.db import OperationalError, ProgrammingError, connection
from django.test import Client
from django.urls import reverse

from consultations.models import ChannelEvent, Message
from consultations.tests.channel_client import post_json, text_event

pytestmark = pytest.mark.django_db

REFUSED = 'connection failed: connection to server at "127.0.0.1", port 5432 failed: Connection refused'


@contextmanager
def failing(select=lambda sql: True, error: Exception | None = None):
    """Queries for which `select(sql)` holds raise `error`, by default what a database that went away raises."""

    def wrapper(execute, sql, params, many, context):
        if select(sql):
            raise error or OperationalError(REFUSED)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield


def session_query(sql: str) -> bool:
    return '"django_session"' in sql


@pytest.fixture
def client():
    """A browser's view of the server: an error is an answer, not an exception raised into the test."""
    return Client(raise_request_exception=False)


@pytest.fixture
def signed_in(client, agent):
    client.force_login(agent.user)
    return client


def assert_unavailable(response, content_type: str) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert response["Content-Type"].startswith(content_type)
    assert b"Traceback" not in response.content and b"Server Error" not in response.content


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("ko", "일시적으로 서비스를 이용할 수 없습니다. 잠시 후 다시 시도해 주세요."),
        ("en", "The service is temporarily unavailable. Please try again in a moment."),
    ],
    ids=["ko", "en"],
)
def test_a_page_answers_503_in_the_members_language(signed_in, language, sentence):
    with failing():
        response = signed_in.get(reverse("console"), headers={"accept-language": language})

    assert_unavailable(response, "text/html")
    page = response.content.decode()
    assert f'<html lang="{language}">' in page
    assert sentence in page
    assert 'href="/static/css/console.css"' in page  # the site's look, found without the database


def test_a_failing_session_lookup_answers_503(signed_in):
    """The signed-in member's session is the first thing a console request reads from the database."""
    with failing(select=session_query):
        response = signed_in.get(reverse("console"))

    assert_unavailable(response, "text/html")
    assert "잠시 후 다시 시도해 주세요" in response.content.decode()


def test_a_failing_session_save_in_the_middleware_answers_503(signed_in, center, caplog):
    """Switching center changes the session, which SessionMiddleware saves after the view has answered.

    The view's redirect is replaced by the answer Django's handler gives the middleware's error, which a
    `process_exception` middleware would never have seen. Django's session store reports the failed save
    as `SessionInterrupted` ("the session was deleted", a 400): the database error behind it makes it a 503.
    """
    session_write = lambda sql: session_query(sql) and sql.lstrip().upper().startswith(("UPDATE", "INSERT"))  # noqa: E731

    with failing(select=session_write):
        response = signed_in.post(reverse("choose-center"), {"center": center.pk})

    assert_unavailable(response, "text/html")
    [logged] = [r for r in caplog.records if r.name == "django.request"]
    assert logged.getMessage() == (
        "The request's session was deleted before the request completed. The user may have logged out in a"
        f" concurrent request, for example.: /center/ (database unreachable: OperationalError: {REFUSED})"
    )
    assert logged.exc_info is None
    assert signed_in.post(reverse("choose-center"), {"center": center.pk}).status_code == 302  # the database is back


def test_the_webhook_answers_503_json_and_the_channels_retry_is_stored_once(client, center):
    event = text_event("점검 중에 보낸 메시지")

    with failing():
        during = post_json(client, "alpha", event, secret="alpha-secret")

    assert_unavailable(during, "application/json")
    assert during.json() == {
        "error": "database_unavailable",
        "detail": "The database is unavailable at the moment; retry later.",
    }

    retried = post_json(client, "alpha", event, secret="alpha-secret")
    again = post_json(client, "alpha", event, secret="alpha-secret")

    assert retried.status_code == 200 and retried.json()["duplicate"] is False
    assert again.json() == {**retried.json(), "duplicate": True}
    assert Message.objects.filter(text="점검 중에 보낸 메시지").count() == 1
    assert ChannelEvent.objects.filter(event_id=event["event_id"]).count() == 1


def test_an_htmx_request_answers_503_with_a_sentence_the_console_shows(signed_in):
    with failing():
        response = signed_in.get(reverse("console"), headers={"hx-request": "true", "accept-language": "ko"})

    assert_unavailable(response, "text/plain")
    assert response.content.decode() == "일시적으로 서비스를 이용할 수 없습니다. 잠시 후 다시 시도해 주세요."


def test_a_json_client_gets_json(signed_in):
    with failing():
        response = signed_in.get(reverse("live-waiting-count"), headers={"accept": "application/json"})

    assert_unavailable(response, "application/json")
    assert json.loads(response.content)["error"] == "database_unavailable"


def test_another_database_error_is_still_a_500(signed_in):
    """Only an unreachable database is "try again later": a broken query is a bug, and says so."""
    with failing(error=ProgrammingError('relation "counsel_center_member" does not exist')):
        response = signed_in.get(reverse("console"))

    assert response.status_code == 500
    assert "Retry-After" not in response


def test_the_log_has_one_line_per_failed_request_without_a_traceback(signed_in, caplog):
    caplog.set_level(logging.ERROR, logger="django.request")

    with failing():
        signed_in.get(reverse("console"))
    with failing(error=ProgrammingError("syntax error")):
        signed_in.get(reverse("console"))

    unavailable, broken = [r for r in caplog.records if r.name == "django.request"]
    assert unavailable.getMessage() == (
        f"Service Unavailable: /consultations/ (database unreachable: OperationalError: {REFUSED})"
    )
    assert unavailable.exc_info is None
    assert broken.getMessage() == "Internal Server Error: /consultations/"
    assert broken.exc_info is not None  # any other error keeps its traceback
