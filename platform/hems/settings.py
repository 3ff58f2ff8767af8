"""Settings for hems, read from the environment with local defaults.

Every value a deployment changes comes from an environment variable; the defaults
suit a developer's machine with PostgreSQL and Redis on localhost.
"""

from __future__ import annotations

import os
from datetime import timedelta
from ipaddress import ip_network
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from hems import discovery
from hems.secret_key import jwt_secret_key, refuse_example_keys, secret_key

BASE_DIR = Path(__file__).resolve().parents[2]


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Embedded mode: with neither a database nor Redis configured, hems runs on its own:
# SQLite in HEMS_DATA_DIR, no stats cache, and the tick run by `manage.py ticker`
# instead of Celery beat and a broker. It is meant for one home (the demo's); anyone
# with only Python can watch it tick. Deployments give both URLs.
EMBEDDED = not os.environ.get("DATABASE_URL") and not os.environ.get("REDIS_URL")
# A checkout (manage.py at its top) keeps its data and collected static files in it;
# an installed package (a wheel, the Docker image) never writes inside site-packages:
# its defaults are in the user's data directory (XDG).
IN_CHECKOUT = (BASE_DIR / "manage.py").is_file()
DEFAULT_DATA_DIR = (
    BASE_DIR / "var"
    if IN_CHECKOUT
    else Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "hems"
)
EMBEDDED_DATA_DIR = Path(os.environ.get("HEMS_DATA_DIR", str(DEFAULT_DATA_DIR)))

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL")
        or (
            f"sqlite:///{EMBEDDED_DATA_DIR / 'hems.sqlite3'}" if EMBEDDED else "postgres://postgres@127.0.0.1:5432/hems"
        ),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, its health check before each reuse without a round trip
    # (hems.postgresql.health).
    DATABASES["default"]["ENGINE"] = "hems.postgresql"
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The web server and the ticker share the file: WAL lets readers run beside the
    # writer, IMMEDIATE transactions wait for the lock instead of failing mid-way.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # The device table's covering index (INCLUDE) speeds the tick's version check on
    # PostgreSQL; SQLite keeps the index without the extra columns, which is fine here.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
elif env_bool("HEMS_DATABASE_POOL", False):
    # The ASGI web server runs sync views on a pool of threads and an async view's
    # database calls in threads of the request's own: a persistent connection per
    # thread would pile up, so the web process shares a pool instead.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": int(os.environ.get("HEMS_DATABASE_POOL_SIZE", "10")),
        "timeout": 10,
    }
# HTTP requests for sync views that a web worker runs at once, each on a thread of a
# fixed pool (hems.http_threads); by default as many as its database pool's connections.
HEMS_WEB_THREADS = int(os.environ.get("HEMS_WEB_THREADS") or os.environ.get("HEMS_DATABASE_POOL_SIZE") or "10")
# No Redis in embedded mode: energyStats is computed from the database each time.
REDIS_URL = os.environ.get("REDIS_URL") or (None if EMBEDDED else "redis://127.0.0.1:6379/0")

# Redis holds each home's latest stats (a cache: losing it loses nothing).
HEMS_REDIS_PREFIX = os.environ.get("HEMS_REDIS_PREFIX", "hems:")

# The tick: homes are processed in shards of consecutive owner ids, one task each.
HEMS_TICK_HOMES_PER_SHARD = int(os.environ.get("HEMS_TICK_HOMES_PER_SHARD", "2500"))
# A Celery worker reads every shard's configuration before it forks its pool processes,
# so that each (and each one it forks later, to replace one that died) starts with it
# and its first tick of a shard reads only the state rows (DESIGN.md "The tick").
HEMS_TICK_PRELOAD = env_bool("HEMS_TICK_PRELOAD", True)
# A device simulated after a long pause integrates at most this many hours.
HEMS_TICK_MAX_ELAPSED_HOURS = float(os.environ.get("HEMS_TICK_MAX_ELAPSED_HOURS", "2"))
# History (DESIGN.md "History"): per-tick rows for a short window; the rolled-up hours
# and days (homes and devices) for years; the devices' hourly rows in between.
HEMS_HISTORY_TICK_DAYS = int(os.environ.get("HEMS_HISTORY_TICK_DAYS", "7"))
HEMS_HISTORY_RETENTION_DAYS = int(os.environ.get("HEMS_HISTORY_RETENTION_DAYS", "1830"))
HEMS_DEVICE_HISTORY_RETENTION_DAYS = int(os.environ.get("HEMS_DEVICE_HISTORY_RETENTION_DAYS", "62"))
# A device's ended hour is filed at its own minute, one of this many (its id modulo
# it), so that the first tick of an hour does not file every device's hour at once;
# meanwhile the state row holds it and readers count it. 1: every hour at once.
_filing_minutes = os.environ.get("HEMS_DEVICE_HOUR_FILING_MINUTES", "60").strip()
if not (_filing_minutes.isdigit() and 1 <= int(_filing_minutes) <= 60):
    raise ImproperlyConfigured(
        f"HEMS_DEVICE_HOUR_FILING_MINUTES must be a whole number from 1 to 60, not {_filing_minutes!r}"
    )
HEMS_DEVICE_HOUR_FILING_MINUTES = int(_filing_minutes)

# Live devices (hems.live, docs/live-devices.md): a live device without a report for this
# long is unavailable; reports dated further ahead than the skew are refused; a command
# the device has not confirmed by reporting the new value fails after the timeout.
HEMS_LIVE_STALE_SECONDS = float(os.environ.get("HEMS_LIVE_STALE_SECONDS", "300"))
HEMS_LIVE_CLOCK_SKEW_SECONDS = float(os.environ.get("HEMS_LIVE_CLOCK_SKEW_SECONDS", "30"))
HEMS_LIVE_COMMAND_TIMEOUT_SECONDS = float(os.environ.get("HEMS_LIVE_COMMAND_TIMEOUT_SECONDS", "120"))
# The MQTT broker devices connect to (what rotateDeviceCredentials hands out), the topic
# prefix (versioned), and hems's own service login (reads every state topic, writes
# commands). hems keeps the broker's password and ACL files in step (hems.live.broker)
# and signals the broker whose pid file is given to reload them.
HEMS_MQTT_HOST = os.environ.get("HEMS_MQTT_HOST", "127.0.0.1")
HEMS_MQTT_PORT = int(os.environ.get("HEMS_MQTT_PORT", "1883"))
HEMS_MQTT_PUBLIC_HOST = os.environ.get("HEMS_MQTT_PUBLIC_HOST", HEMS_MQTT_HOST)
HEMS_MQTT_PUBLIC_PORT = int(os.environ.get("HEMS_MQTT_PUBLIC_PORT", str(HEMS_MQTT_PORT)))
HEMS_MQTT_TOPIC_PREFIX = os.environ.get("HEMS_MQTT_TOPIC_PREFIX", "hems/v1")
HEMS_MQTT_SERVICE_USERNAME = os.environ.get("HEMS_MQTT_SERVICE_USERNAME", "hems-service")
HEMS_MQTT_SERVICE_PASSWORD = os.environ.get("HEMS_MQTT_SERVICE_PASSWORD", "")
HEMS_MQTT_PASSWORD_FILE = os.environ.get("HEMS_MQTT_PASSWORD_FILE", "")
HEMS_MQTT_ACL_FILE = os.environ.get("HEMS_MQTT_ACL_FILE", "")
HEMS_MQTT_BROKER_PID_FILE = os.environ.get("HEMS_MQTT_BROKER_PID_FILE", "")
# The ingest process (hems.live.pipeline, `bin/hems ingest`): its own broker login (read
# only; empty: the service login), batches of this many reports or this many seconds,
# at most this many reports held while the database is unreachable, and each device's
# allowance (a burst, refilled at a rate per minute) beyond which its reports are dropped.
HEMS_MQTT_INGEST_USERNAME = os.environ.get("HEMS_MQTT_INGEST_USERNAME", "hems-ingest")
HEMS_MQTT_INGEST_PASSWORD = os.environ.get("HEMS_MQTT_INGEST_PASSWORD", "")
HEMS_INGEST_BATCH_SIZE = int(os.environ.get("HEMS_INGEST_BATCH_SIZE", "2000"))
HEMS_INGEST_BATCH_SECONDS = float(os.environ.get("HEMS_INGEST_BATCH_SECONDS", "0.2"))
HEMS_INGEST_BUFFER = int(os.environ.get("HEMS_INGEST_BUFFER", "50000"))  # below MQTT's receive maximum, 65,535
HEMS_INGEST_BURST = float(os.environ.get("HEMS_INGEST_BURST", "20"))
HEMS_INGEST_RATE_PER_MINUTE = float(os.environ.get("HEMS_INGEST_RATE_PER_MINUTE", "12"))
# The emulator's one login that may publish every device's state (`manage.py emulate
# --shared`; empty: it connects as each device). See docs/live-devices.md.
HEMS_MQTT_EMULATOR_USERNAME = os.environ.get("HEMS_MQTT_EMULATOR_USERNAME", "hems-emulator")
HEMS_MQTT_EMULATOR_PASSWORD = os.environ.get("HEMS_MQTT_EMULATOR_PASSWORD", "")

# Celery: Redis as the broker, beat's schedule in the database (django-celery-beat).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ACKS_LATE = True  # a shard whose worker dies is delivered again
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "hems")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", EMBEDDED)  # no broker to send to
# A message taken by a worker that dies without acking it goes back to the queue after
# this many seconds (Redis transport): short redelivers sooner, but a shard running longer
# than it would be delivered twice (the claim row then makes the second a no-op). Workers
# look for such messages every few seconds (kombu's default is every 100 s).
CELERY_VISIBILITY_TIMEOUT = int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "300"))
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "unacked_restore_interval": max(1, min(10, CELERY_VISIBILITY_TIMEOUT // 3)),
    "unacked_restore_throttle": 1,
}
# Celery's Django fixup closes the database connection around every task unless this is
# set: a worker process then keeps its connection for this many tasks (shards), instead
# of opening one per shard; hems.simulation.tasks drops a connection an error broke.
CELERY_DB_REUSE_MAX = int(os.environ.get("CELERY_DB_REUSE_MAX", "1000"))
CELERY_IMPORTS = ["hems.metrics.worker"]  # the worker serves its pool's metrics (hems.metrics)

# Prometheus metrics (hems.metrics, docs/operations.md). /metrics on the web process, and the
# worker's and the ingest's own exporters (host:port; empty: none; bin/hems sets loopback
# ports), answer clients in these networks only and, when the token is set, holding it as a
# bearer token (SECURITY.md, "Metrics").
HEMS_METRICS_ALLOW = [ip_network(net, strict=False) for net in env_list("HEMS_METRICS_ALLOW", "127.0.0.0/8,::1/128")]
HEMS_METRICS_TOKEN = os.environ.get("HEMS_METRICS_TOKEN", "")
HEMS_METRICS_WORKER_ADDRESS = os.environ.get("HEMS_METRICS_WORKER_ADDRESS", "")
HEMS_METRICS_INGEST_ADDRESS = os.environ.get("HEMS_METRICS_INGEST_ADDRESS", "")

# Drivers: discovered from the "hems.drivers" entry points, never listed by hand.
HEMS_DISABLED_DRIVERS = frozenset(env_list("HEMS_DISABLED_DRIVERS"))
HEMS_DRIVER_APPS = discovery.discover(HEMS_DISABLED_DRIVERS)

# A new user's home, until they set their own (Berlin: a mid-latitude default).
HEMS_DEFAULT_LATITUDE = float(os.environ.get("HEMS_DEFAULT_LATITUDE", "52.52"))
HEMS_DEFAULT_LONGITUDE = float(os.environ.get("HEMS_DEFAULT_LONGITUDE", "13.405"))
HEMS_DEFAULT_TIME_ZONE = os.environ.get("HEMS_DEFAULT_TIME_ZONE", "Europe/Berlin")

# Security: production unless told otherwise (SECURITY.md). DEBUG is off by default; a
# deployment (DATABASE_URL or REDIS_URL set) must bring its own SECRET_KEY, and embedded
# mode generates one once and keeps it in its data directory, so it starts with no
# environment at all. HEMS_HTTPS (on by default in a deployment) is for hems behind a
# TLS-terminating proxy (gunicorn itself serves plain HTTP): secure cookies, HSTS and a
# redirect of plain HTTP, trusting the proxy's X-Forwarded-Proto.
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = secret_key(os.environ.get("SECRET_KEY"), debug=DEBUG, embedded=EMBEDDED, data_dir=EMBEDDED_DATA_DIR)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
HEMS_HTTPS = env_bool("HEMS_HTTPS", not DEBUG and not EMBEDDED)
refuse_example_keys(os.environ, https=HEMS_HTTPS)
SECURE_SSL_REDIRECT = HEMS_HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]  # healthchecks and Prometheus call them over plain HTTP
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HEMS_HTTPS else None
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HEMS_HTTPS
SECURE_HSTS_SECONDS = int(os.environ.get("HEMS_HSTS_SECONDS", str(365 * 86400))) if HEMS_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HEMS_HSTS_INCLUDE_SUBDOMAINS", True)
# Preload only takes effect once the domain is submitted to the browsers' list (hstspreload.org).
SECURE_HSTS_PRELOAD = env_bool("HEMS_HSTS_PRELOAD", True)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Login throttling (django-axes): HEMS_LOGIN_FAILURE_LIMIT failures for one account, or
# from one address, lock it out for HEMS_LOGIN_LOCKOUT_MINUTES after the last failure.
# Behind proxies, HEMS_TRUSTED_PROXIES says how many X-Forwarded-For entries to believe.
HEMS_TRUSTED_PROXIES = int(os.environ.get("HEMS_TRUSTED_PROXIES", "0"))
AXES_FAILURE_LIMIT = int(os.environ.get("HEMS_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("HEMS_LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # hammering a lock does not extend it forever
AXES_CLIENT_IP_CALLABLE = "hems.api.throttle.client_ip"
AXES_USERNAME_CALLABLE = "hems.api.throttle.username"
AXES_LOCKOUT_CALLABLE = "hems.api.throttle.lockout_response"
AXES_VERBOSE = False

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "graphene_django",
    "graphql_jwt.refresh_token",
    "django_celery_beat",
    "axes",
    "hems.devices",
    "hems.simulation",
    "hems.live",
    "hems.dashboard",
    "hems.graphiql",
    *HEMS_DRIVER_APPS,
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves the admin's static files under gunicorn, without a separate web server.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # turns a lockout into its answer (hems.api.throttle)
]

ROOT_URLCONF = "hems.urls"
WSGI_APPLICATION = "hems.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Axes first: it refuses a locked-out login before the password is even checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]

# GraphQL: the schema is assembled from the drivers at start-up (hems.api.schema).
GRAPHENE = {
    "SCHEMA": "hems.api.schema.schema",
    "ATOMIC_MUTATIONS": True,  # the request in a transaction, each mutation in a savepoint (hems.api.atomic)
    "SCHEMA_OUTPUT": "schema.graphql",
}
# GraphiQL (served from hems's own static files) is on for someone trying hems (embedded
# or DEBUG) and off in a deployment unless asked for; it needs introspection to be useful.
HEMS_GRAPHIQL = env_bool("HEMS_GRAPHIQL", DEBUG or EMBEDDED)
HEMS_GRAPHQL_INTROSPECTION = env_bool("HEMS_GRAPHQL_INTROSPECTION", HEMS_GRAPHIQL)
HEMS_GRAPHQL_MAX_QUERY_LENGTH = int(os.environ.get("HEMS_GRAPHQL_MAX_QUERY_LENGTH", "8000"))
HEMS_GRAPHQL_MAX_DEPTH = int(os.environ.get("HEMS_GRAPHQL_MAX_DEPTH", "8"))
HEMS_GRAPHQL_MAX_FIELDS = int(os.environ.get("HEMS_GRAPHQL_MAX_FIELDS", "250"))
HEMS_HISTORY_MAX_BUCKETS = int(os.environ.get("HEMS_HISTORY_MAX_BUCKETS", "2000"))

# Live push (hems.push, DESIGN.md "Push"): GraphQL subscriptions over WebSocket and SSE,
# served by the ASGI app (hems.asgi) through Channels. The tick publishes on the Redis
# channel layer; the embedded mode has no Redis and runs the ticker inside its one web
# process (HEMS_TICK_IN_WEB, set by `bin/hems all`), on the in-memory layer.
ASGI_APPLICATION = "hems.asgi.application"
CHANNEL_LAYERS = {
    "default": {"BACKEND": "hems.push.layer.RedisLayer", "CONFIG": {"hosts": [REDIS_URL]}}
    if REDIS_URL
    else {"BACKEND": "channels.layers.InMemoryChannelLayer"}
}
HEMS_TICK_IN_WEB = env_bool("HEMS_TICK_IN_WEB", False)
HEMS_INGEST_IN_WEB = env_bool("HEMS_INGEST_IN_WEB", False)  # the same for live devices' ingest (hems.live.embedded)
# A subscriber's messages not yet written to its socket: beyond this many, or one write
# blocked longer than the timeout, the client is too slow and is dropped (close 1013).
HEMS_PUSH_MAX_QUEUE = int(os.environ.get("HEMS_PUSH_MAX_QUEUE", "16"))
HEMS_PUSH_SEND_TIMEOUT = float(os.environ.get("HEMS_PUSH_SEND_TIMEOUT", "10"))
HEMS_PUSH_INIT_TIMEOUT = float(os.environ.get("HEMS_PUSH_INIT_TIMEOUT", "10"))  # connection_init, else 4408
HEMS_PUSH_MAX_SUBSCRIPTIONS = int(os.environ.get("HEMS_PUSH_MAX_SUBSCRIPTIONS", "10"))  # per connection
HEMS_PUSH_KEEPALIVE_SECONDS = float(os.environ.get("HEMS_PUSH_KEEPALIVE_SECONDS", "15"))  # SSE comment lines

GRAPHQL_JWT = {
    "JWT_SECRET_KEY": jwt_secret_key(os.environ.get("JWT_SECRET_KEY"), secret_key=SECRET_KEY, debug=DEBUG),
    "JWT_ALGORITHM": "HS256",
    "JWT_VERIFY_EXPIRATION": True,
    "JWT_EXPIRATION_DELTA": timedelta(seconds=int(os.environ.get("JWT_ACCESS_TTL_SECONDS", "900"))),
    "JWT_LONG_RUNNING_REFRESH_TOKEN": True,
    "JWT_REFRESH_EXPIRATION_DELTA": timedelta(seconds=int(os.environ.get("JWT_REFRESH_TTL_SECONDS", str(7 * 86400)))),
    "JWT_AUTH_HEADER_PREFIX": "Bearer",
    "JWT_DECODE_HANDLER": "hems.api.tokens.decode",  # an expiry is required
    "JWT_GET_REFRESH_TOKEN_HANDLER": "hems.api.tokens.get_refresh_token",  # an inactive user's tokens renew nothing
    "JWT_GET_USER_BY_NATURAL_KEY_HANDLER": "hems.api.tokens.get_user_by_natural_key",  # a query compiled once
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = os.environ.get("STATIC_ROOT", str((BASE_DIR if IN_CHECKOUT else DEFAULT_DATA_DIR) / "staticfiles"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
