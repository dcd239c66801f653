"""The least Django that answers a JSON POST with one insert, or a GET by rendering 50 rows: no middleware, one app.

Served like the product (gunicorn + uvicorn workers, DEBUG off, persistent
connections) on its own PostgreSQL database, so the product's throughput can
be read as a share of what Django itself does on this machine. `/hit` is the
baseline of bench/webhook_bench.py, `/rows` (one indexed 50-row query through
a template) that of bench/console_bench.py.
"""

import os

import dj_database_url

DEBUG = False
SECRET_KEY = os.environ.get("SECRET_KEY", "bench-only-not-secret")
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["baseline"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "baseline.urls"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
DATABASES = {
    "default": dj_database_url.parse(
        os.environ["DATABASE_URL"],
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
# The product's per-connection server setting (counsel_center/settings.py), so both are served alike.
DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
    f"-c max_parallel_workers_per_gather={int(os.environ.get('DB_MAX_PARALLEL_WORKERS_PER_GATHER', '0'))}"
)
if int(os.environ.get("DB_POOL_MAX_SIZE", "0")) > 0:  # the same pool as the product's settings
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": int(os.environ.get("DB_POOL_MIN_SIZE", "2")),
        "max_size": int(os.environ["DB_POOL_MAX_SIZE"]),
        "timeout": 10,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
