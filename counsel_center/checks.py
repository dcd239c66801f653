"""`manage.py check --deploy`: the database settings the ASGI web server needs (docs/operations.md)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.database, deploy=True)
def web_connections_are_pooled(app_configs, **kwargs):
    # Django's ASGI handler runs each request in a thread of its own, so a persistent
    # connection is never reused: it stays open until its thread is collected.
    database = settings.DATABASES["default"]
    if database.get("CONN_MAX_AGE", 0) == 0:
        return []
    return [
        Warning(
            "CONN_MAX_AGE is not 0: under ASGI every request runs in a new thread and opens a new connection.",
            hint="For the web processes set DB_POOL_MAX_SIZE (the psycopg pool) and leave CONN_MAX_AGE at 0.",
            id="counsel_center.W001",
        )
    ]
