"""The ASGI entry point (uvicorn, gunicorn with uvicorn workers)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "counsel_center.settings")
django.setup(set_prefix=False)

from .asgi_handler import OneHopASGIHandler  # noqa: E402 (needs the app registry)
from .request_limits import RequestLimits  # noqa: E402

django_application = OneHopASGIHandler()
# The channel's webhook is called by servers, signed, and answers JSON: sessions,
# authentication, CSRF, languages, messages and htmx mean nothing to it, and
# skipping them saves about a tenth of its CPU per event (docs/perf.md).
# CommonMiddleware keeps the ALLOWED_HOSTS check, SecurityMiddleware the headers.
CHANNEL_PATH_PREFIX = "/channel/"
CHANNEL_MIDDLEWARE = ["django.middleware.security.SecurityMiddleware", "django.middleware.common.CommonMiddleware"]
channel_application = OneHopASGIHandler(middleware=CHANNEL_MIDDLEWARE)


async def dispatch(scope, receive, send):
    if scope["type"] == "http" and scope["path"][len(scope.get("root_path", "")) :].startswith(CHANNEL_PATH_PREFIX):
        await channel_application(scope, receive, send)
        return
    await django_application(scope, receive, send)


# Bodies over a route's limit, and early refusals, are answered before the body is read.
application = RequestLimits(dispatch)
