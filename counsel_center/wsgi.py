"""The WSGI entry point: production's web processes (gunicorn `gthread`) serve every page, the webhook and the
downloads here; only `/events/stream` goes to the ASGI processes (docs/architecture.md, "Serving")."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "counsel_center.settings")
application = get_wsgi_application()
