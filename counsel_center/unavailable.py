"""503 instead of 500 while the database cannot be reached (a PostgreSQL restart; docs/operations.md).

Django turns an exception raised in a view, or in any middleware (the
session's save, the early check of request_limits.py), into a response at the
layer that raised it, by calling the URLconf's `handler500` while the exception
is being handled (django.core.handlers.exception), so `sys.exc_info()` names it
there; `handler400` is given its exception. A middleware's `process_exception`
would see only the views' exceptions; the handlers see them all. With DEBUG on
Django shows its debug page instead, as for any error.

A database error (`OperationalError`: connection refused or lost, the pool's
timeout, the server shutting down; `InterfaceError`: a closed connection) is
answered 503 with Retry-After, in the client's form: JSON for the channel and
JSON clients, a sentence for htmx (console.js shows it), else templates/503.html.
Nothing here touches the database: the page is rendered without the request,
so no session, user or context processor is read.
"""

from __future__ import annotations

import copy
import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.translation import gettext as _
from django.views import defaults

RETRY_AFTER_SECONDS = 10  # a restart takes seconds, and the processes reconnect within seconds of its end
CHANNEL_ROUTES = {"channel-events", "channel-file"}  # the channel's side of counsel_center/urls.py: JSON errors
JSON_DETAIL = "The database is unavailable at the moment; retry later."


def database_error_in(error: BaseException | None) -> OperationalError | InterfaceError | None:
    """The database error that `error` is, or that was being handled when it was raised; else None.

    Django turns some database errors into others: the session's save that fails
    is `SessionInterrupted` (a 400) raised while handling an `UpdateError` raised
    while handling the `OperationalError`.
    """
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, (OperationalError, InterfaceError)):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def server_error(request: HttpRequest) -> HttpResponse:
    """The URLconf's handler500: 503 for a database error, Django's own 500 page for anything else."""
    if database_error_in(sys.exc_info()[1]):
        return unavailable(request)
    return defaults.server_error(request)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The URLconf's handler400: 503 for a 400 that a database error caused (the session's save), else Django's."""
    if database_error_in(exception):
        return unavailable(request)
    return defaults.bad_request(request, exception)


def unavailable(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        response = JsonResponse({"error": "database_unavailable", "detail": JSON_DETAIL}, status=503)
    else:
        # The language as LocaleMiddleware chooses it (cookie, Accept-Language), which may not have run yet.
        with translation.override(translation.get_language_from_request(request)):
            if request.headers.get("HX-Request") == "true":
                # htmx swaps no error response: console.js shows this sentence instead.
                text = _("The service is temporarily unavailable. Please try again in a moment.")
                response = HttpResponse(text, status=503, content_type="text/plain; charset=utf-8")
            else:
                response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _wants_json(request: HttpRequest) -> bool:
    try:
        if resolve(request.path_info).url_name in CHANNEL_ROUTES:
            return True
    except Resolver404:
        pass
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"


class OneLineDatabaseErrors(logging.Filter):
    """A database error's record as one line, without its traceback (settings.LOGGING).

    While the database is away every request fails the same way: Django's
    request logger would print a 30-line traceback per request, each showing
    only where that request's first query happened to be. The operator needs to
    know which requests failed and why: "Service Unavailable: /path (database
    unreachable: OperationalError: connection failed: … Connection refused)".
    Any other error keeps its traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool | logging.LogRecord:
        error = database_error_in(record.exc_info[1] if record.exc_info else None)
        if error is None:
            return True
        cause = error.__cause__ or error  # Django's error wraps the driver's (psycopg.errors.AdminShutdown, …)
        one_line = " ".join(str(error).split())
        record = copy.copy(record)
        record.msg = f"{record.getMessage()} (database unreachable: {type(cause).__name__}: {one_line})"
        record.args = ()
        record.exc_info = record.exc_text = None
        return record
