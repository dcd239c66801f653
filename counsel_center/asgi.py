"""The ASGI entry point (uvicorn, gunicorn with uvicorn workers)."""

import json
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "counsel_center.settings")
django.setup(set_prefix=False)

from .asgi_handler import OneHopASGIHandler  # noqa: E402 (needs the app registry)

django_application = OneHopASGIHandler()
# The channel's webhook is called by servers, signed, and answers JSON: sessions,
# authentication, CSRF, languages, messages and htmx mean nothing to it, and
# skipping them saves about a tenth of its CPU per event (docs/perf.md).
# CommonMiddleware keeps the ALLOWED_HOSTS check, SecurityMiddleware the headers.
CHANNEL_PATH_PREFIX = "/channel/"
CHANNEL_MIDDLEWARE = ["django.middleware.security.SecurityMiddleware", "django.middleware.common.CommonMiddleware"]
channel_application = OneHopASGIHandler(middleware=CHANNEL_MIDDLEWARE)

# Django's ASGI handler turns an over-long header (it refuses to parse one past
# 10,000 characters) into a 500; refuse such requests here, as a proxy would.
MAX_HEADER_BYTES = 8192
_TOO_LARGE = json.dumps({"error": "header_too_large", "detail": "A request header is too large."}).encode()


async def application(scope, receive, send):
    if scope["type"] == "http" and any(len(value) > MAX_HEADER_BYTES for _, value in scope.get("headers", ())):
        await send(
            {
                "type": "http.response.start",
                "status": 431,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(_TOO_LARGE)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": _TOO_LARGE})
        return
    if scope["type"] == "http" and scope["path"][len(scope.get("root_path", "")) :].startswith(CHANNEL_PATH_PREFIX):
        await channel_application(scope, receive, send)
        return
    await django_application(scope, receive, send)
