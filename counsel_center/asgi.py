"""The ASGI entry point (uvicorn, gunicorn with uvicorn workers): Django's own handler, behind the request limits.

docs/architecture.md, "Serving", says why it is one ASGI server and what that costs.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "counsel_center.settings")
django_application = get_asgi_application()

from .request_limits import RequestLimits  # noqa: E402 (needs the app registry)

# Bodies over a route's limit, and early refusals, are answered before the body is read.
application = RequestLimits(django_application)
