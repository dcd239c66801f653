"""Settings for 상담 관리자센터, read from environment variables only.

Embedded default (no variables set): SQLite in var/, Celery on kombu's
filesystem broker in var/, local-memory cache. Production: DATABASE_URL
(PostgreSQL), REDIS_URL (broker, cache, live-update doorbell), SECRET_KEY,
DEBUG=0, ALLOWED_HOSTS. See docs/operations.md.
"""

import json
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP

from .env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in var/.

    The file fallback lets a fresh checkout run without set-up while never
    shipping a key in the repository; production sets SECRET_KEY.
    """
    key = env_str("SECRET_KEY")
    if key:
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_filters",
    "axes",
    "counsel_center",
    "customers",
    "consultations",
    "console",
    "stats",
    "center_settings",
    "simulator",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads the body: under WSGI it refuses a body over the route's limit, or what the
    # route's early check refuses, unread (counsel_center/request_limits.py).
    "counsel_center.request_limits.RequestLimitsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes documents: it turns a login refused for too many failures into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "counsel_center.urls"
WSGI_APPLICATION = "counsel_center.wsgi.application"
ASGI_APPLICATION = "counsel_center.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "counsel_center.context_processors.console",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
# SQLite runs in WAL mode with IMMEDIATE transactions: every atomic block takes
# the write lock up front, so the lifecycle's read-check-write sequences are
# serialised exactly as select_for_update() serialises them on PostgreSQL (R11).
SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 30,
}
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    _db = dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("CONN_MAX_AGE", 0),
        conn_health_checks=True,
    )
else:
    _db = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(VAR_DIR / "db.sqlite3")}
if _db["ENGINE"] == "django.db.backends.postgresql" and env_int("DB_POOL_MAX_SIZE", 0) > 0:
    # A few connections shared by the process's request threads (docs/operations.md).
    # Django requires CONN_MAX_AGE 0 with it.
    from psycopg_pool import ConnectionPool

    _db["CONN_MAX_AGE"] = 0
    _db.setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DB_POOL_MIN_SIZE", 2),
        "max_size": env_int("DB_POOL_MAX_SIZE", 0),
        "timeout": env_int("DB_POOL_TIMEOUT_SECONDS", 10),
        # A connection is checked (an empty query) before it is lent: after a database restart the pool's
        # connections are dead, and unchecked each would fail a request. Django sets the same check when
        # CONN_HEALTH_CHECKS is on; said here so that it does not hang on that flag.
        "check": ConnectionPool.check_connection,
        # While the database is away the pool retries each connection with a doubling pause. With psycopg_pool's
        # default (retry for 5 minutes) the pause grows past the outage: a database back after a 40 s stop went
        # unnoticed for 20 s more. After 10 s it gives up instead, and the next request starts again at once.
        "reconnect_timeout": 10,
    }
if _db["ENGINE"] == "django.db.backends.postgresql":
    # A console request is one short query after another: PostgreSQL's parallel workers
    # (its default, 2 per Gather) made a search's walk of the newest messages 3-6x slower
    # on a small server (docs/perf.md). A server setting per connection; an `options`
    # given in DATABASE_URL wins.
    _db.setdefault("OPTIONS", {}).setdefault(
        "options", f"-c max_parallel_workers_per_gather={env_int('DB_MAX_PARALLEL_WORKERS_PER_GATHER', 0)}"
    )
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db.setdefault("OPTIONS", {}).update(SQLITE_OPTIONS)
    # A file, not the in-memory default: concurrency tests use real threads,
    # each with its own connection, which an in-memory database cannot share.
    _db["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache, Celery -------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
# How long a request waits for a Redis that does not answer (cache, broker).
REDIS_CONNECT_TIMEOUT_SECONDS = env_float("REDIS_CONNECT_TIMEOUT_SECONDS", 1.0)
REDIS_TIMEOUT_SECONDS = env_float("REDIS_TIMEOUT_SECONDS", 1.0)


def redis_cache(url: str) -> dict:
    """The cache on Redis at `url`, optional: while Redis is down reads miss and writes are skipped (and logged).

    django-redis rather than Django's RedisCache for that (IGNORE_EXCEPTIONS).
    """
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        "OPTIONS": {
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": REDIS_CONNECT_TIMEOUT_SECONDS,
            "SOCKET_TIMEOUT": REDIS_TIMEOUT_SECONDS,
        },
    }


DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
if REDIS_URL:
    CACHES = {"default": redis_cache(REDIS_URL)}
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {"socket_connect_timeout": REDIS_CONNECT_TIMEOUT_SECONDS}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # kombu's filesystem transport: a broker that needs nothing but a folder,
    # so `make run` works on a machine with Python only.
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "data_folder_processed": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),  # else ./control, beside the code
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
# A request that queues a task while the broker is down gives up within about a
# second instead of retrying for long: what it queued stays `pending` for the
# stalled-delivery sweep (consultations.channel.delivery.enqueue).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = "Asia/Seoul"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# R9.4: idle consultations close "at most a minute late"; sweeping every 30 s
# leaves room for a slow sweep without breaking that promise.
IDLE_SWEEP_SECONDS = env_int("IDLE_SWEEP_SECONDS", 30)
# Daily statistics (stats/rollup.py): beat runs the rollup every 10 minutes, and
# a center's day is rolled up once it has been over for this long, so each
# center's yesterday is rolled up at about 00:10 in its own time zone.
STATS_ROLLUP_DELAY_MINUTES = env_int("STATS_ROLLUP_DELAY_MINUTES", 10)
# The 통계 page's 92-row daily table, kept in the cache by the rollups' version
# (a rebuild changes the key), so it is rendered once per center, tab and language.
STATS_TABLE_CACHE_SECONDS = env_int("STATS_TABLE_CACHE_SECONDS", 24 * 60 * 60)

# --- Live updates (GET /events/stream) -------------------------------------
# Streams wait for the Redis doorbell and re-read the Event table at least every
# LIVE_DOORBELL_SAFETY_SECONDS (a lost ring costs latency, never an event);
# without Redis, or while it is unreachable, they poll every LIVE_POLL_SECONDS.
# A comment after LIVE_HEARTBEAT_SECONDS of silence keeps proxies from closing them.
LIVE_POLL_SECONDS = env_float("LIVE_POLL_SECONDS", 1.0)
LIVE_HEARTBEAT_SECONDS = env_float("LIVE_HEARTBEAT_SECONDS", 15.0)
LIVE_DOORBELL_SAFETY_SECONDS = env_float("LIVE_DOORBELL_SAFETY_SECONDS", 5.0)

# --- Request limits (counsel_center/request_limits.py, docs/operations.md) --
# Bodies are refused before they are read: a route's limit (this, or its view's
# own: the webhook takes a 300 MB attachment), and a client that stops sending
# its body for REQUEST_BODY_TIMEOUT_SECONDS is cut off. Django's own limits
# below apply to what is read.
REQUEST_BODY_MAX_BYTES = env_int("REQUEST_BODY_MAX_BYTES", 5 * 1024 * 1024)
REQUEST_BODY_TIMEOUT_SECONDS = env_float("REQUEST_BODY_TIMEOUT_SECONDS", 30.0)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # Django's default, said out loud: form fields and JSON bodies
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # how much of a body Django's ASGI handler spools in memory

# --- Attachments (SPEC §4, docs/operations.md "Attachments") -------------------
# Every file part streams to a temporary file, hashed, and stops at 300 MB
# (consultations/uploads.py). Keep the temporary directory on the media disk:
# the file system storage then moves an upload into place instead of copying it.
FILE_UPLOAD_HANDLERS = ["consultations.uploads.CappedUploadHandler"]
FILE_UPLOAD_TEMP_DIR = env_str("FILE_UPLOAD_TEMP_DIR", str(VAR_DIR / "tmp"))
Path(FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)
# Images over this many pixels are plain files, never decoded (Pillow's MAX_IMAGE_PIXELS).
ATTACHMENT_MAX_IMAGE_PIXELS = env_int("ATTACHMENT_MAX_IMAGE_PIXELS", 50_000_000)
# How downloads are sent: "" (Django streams the file), "x-accel-redirect" (nginx
# serves ATTACHMENT_ACCEL_PREFIX + the stored name from an internal location) or
# "x-sendfile" (Apache, lighttpd: the file's path).
ATTACHMENT_SERVE_WITH = env_str("ATTACHMENT_SERVE_WITH", "")
ATTACHMENT_ACCEL_PREFIX = env_str("ATTACHMENT_ACCEL_PREFIX", "/protected-media/")
# The channel fetches an agent's file from a signed link that expires after this.
ATTACHMENT_LINK_MAX_AGE_SECONDS = env_int("ATTACHMENT_LINK_MAX_AGE_SECONDS", 7 * 24 * 60 * 60)
# This site's address as the channel reaches it (links in outbound messages).
PUBLIC_URL = env_str("PUBLIC_URL", "http://localhost:8000" if DEBUG else "").rstrip("/")

# --- Outbound delivery ----------------------------------------------------
# Agent messages are POSTed to the center's outbound URL by
# consultations.channel.delivery (SPEC §7): per-request timeout, attempts per round
# (an author's retry starts a new round), and exponential backoff
# (base × 2^(n-1), capped) between attempts.
DELIVERY_TIMEOUT_SECONDS = env_int("DELIVERY_TIMEOUT_SECONDS", 10)
DELIVERY_MAX_ATTEMPTS = env_int("DELIVERY_MAX_ATTEMPTS", 5)
DELIVERY_BACKOFF_SECONDS = env_int("DELIVERY_BACKOFF_SECONDS", 2)
DELIVERY_BACKOFF_MAX_SECONDS = env_int("DELIVERY_BACKOFF_MAX_SECONDS", 300)
# autodiscover_tasks() imports only each app's tasks.py; the worker must also
# know the delivery tasks, which lifecycle queues by name (their names predate the
# channel package: consultations.delivery.*, consultations.report_delivery.*).
CELERY_IMPORTS = ["consultations.channel.delivery", "consultations.channel.report_delivery", "consultations.thumbnails"]

# The customer simulator (/simulator/<slug>/) plays a customer with real signed
# webhook calls; it shows the webhook secret, so it is on only in DEBUG or when
# asked for.
SIMULATOR_ENABLED = env_bool("SIMULATOR_ENABLED", DEBUG)

# --- Auth -----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out login before the password is checked (docs/operations.md
# "Login throttling"). It needs the request, which LoginView and the admin's login pass to authenticate().
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# A username is locked after LOGIN_FAILURE_LIMIT failures from any address, and an address after as many
# failures for any usernames; either lasts LOGIN_COOLOFF_MINUTES after the last failure. A success forgives
# that username's own failures (counsel_center/login_throttle.py says why only those).
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username"], ["ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "counsel_center.login_throttle.LoginThrottleHandler"
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
AXES_HTTP_RESPONSE_CODE = 429
# The client's address: REMOTE_ADDR, or behind the proxy the header it sets to the client's address
# (CLIENT_IP_HEADER=X-Real-IP with nginx's `proxy_set_header X-Real-IP $remote_addr`), else every
# login would come from the proxy's one address and one person's typos would lock everyone out.
CLIENT_IP_HEADER = env_str("CLIENT_IP_HEADER", "")
AXES_CLIENT_IP_CALLABLE = "counsel_center.login_throttle.client_ip"
# Axes' own admin is not scoped to a center (it lists every username and address); masters unlock their
# members from the member list instead (counsel_center/admin.py), operators with axes' reset commands.
AXES_ENABLE_ADMIN = False
# Attempts are kept for the lockout; successful logins are not logged a second time beside the session.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False  # no start-up banner in every command's output

# A session lasts a working day and ends when the browser closes; a password change (set_password) ends
# the user's other sessions through Django's session auth hash.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE_SECONDS", 9 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", True)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "console"
LOGOUT_REDIRECT_URL = "login"

# --- Internationalisation -------------------------------------------------
LANGUAGE_CODE = "ko"
LANGUAGES = [("ko", "한국어"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Seoul"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on every request when it is missing
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# Attachments go to the default storage: the file system under MEDIA_ROOT, or
# any Django storage by settings alone (S3 through django-storages: docs/operations.md).
STORAGES = {
    "default": {
        "BACKEND": env_str("STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"),
        "OPTIONS": json.loads(env_str("STORAGE_OPTIONS", "{}")),
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Security (production defaults; DEBUG relaxes cookies for local http) --
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy (Django's own middleware; docs/security.md). Scripts and styles come only from this
# site's static files: the templates hold no inline <script>, <style>, style="" or on…= (counsel_center/tests/
# test_csp.py scans them), and htmx runs without eval (allowEval false, no hx-trigger filters, no hx-on/js:)
# and without its injected indicator <style> (base.html's htmx-config). Images also from data: (the simulator's
# empty favicon) and blob: (the simulator's preview of a picked image, URL.createObjectURL). The SSE stream and
# the simulator's webhook calls are same-origin (connect-src 'self'). A downloaded file gets a stricter policy
# of its own (consultations/file_responses.py), which the middleware leaves in place.
_csp = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", "blob:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
# CSP_REPORT_ONLY=1 sends the same policy as Content-Security-Policy-Report-Only instead: the browser reports
# what it would block (in its console) and blocks nothing, a way to try a change of the policy in production.
if env_bool("CSP_REPORT_ONLY", False):
    SECURE_CSP_REPORT_ONLY = _csp
else:
    SECURE_CSP = _csp

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # A database error is one line without its traceback in the request log and the live stream's warnings:
    # while the database restarts every request fails alike (counsel_center/unavailable.py says why).
    "filters": {"one_line_database_errors": {"()": "counsel_center.unavailable.OneLineDatabaseErrors"}},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.request": {"filters": ["one_line_database_errors"]},
        "consultations.live.stream": {"filters": ["one_line_database_errors"]},
    },
}
