"""Settings for hems, read from the environment with local defaults.

Every value a deployment changes comes from an environment variable; the defaults
suit a developer's machine with PostgreSQL and Redis on localhost.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

from hems import discovery

BASE_DIR = Path(__file__).resolve().parents[2]


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-insecure-key-do-not-use-in-production")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hems"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

# Redis holds each home's latest stats (a cache: losing it loses nothing).
HEMS_REDIS_PREFIX = os.environ.get("HEMS_REDIS_PREFIX", "hems:")

# The tick: homes are processed in shards of consecutive owner ids, one task each.
HEMS_TICK_HOMES_PER_SHARD = int(os.environ.get("HEMS_TICK_HOMES_PER_SHARD", "2500"))
# A device simulated after a long pause integrates at most this many hours.
HEMS_TICK_MAX_ELAPSED_HOURS = float(os.environ.get("HEMS_TICK_MAX_ELAPSED_HOURS", "2"))
HEMS_HISTORY_RETENTION_DAYS = int(os.environ.get("HEMS_HISTORY_RETENTION_DAYS", "400"))
HEMS_DEVICE_HISTORY_RETENTION_DAYS = int(os.environ.get("HEMS_DEVICE_HISTORY_RETENTION_DAYS", "90"))

# Celery: Redis as the broker, beat's schedule in the database (django-celery-beat).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ACKS_LATE = True  # a shard whose worker dies is delivered again
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "hems")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 300}

# Drivers: discovered from the "hems.drivers" entry points, never listed by hand.
HEMS_DISABLED_DRIVERS = frozenset(env_list("HEMS_DISABLED_DRIVERS"))
HEMS_DRIVER_APPS = discovery.discover(HEMS_DISABLED_DRIVERS)

# A new user's home, until they set their own (Berlin: a mid-latitude default).
HEMS_DEFAULT_LATITUDE = float(os.environ.get("HEMS_DEFAULT_LATITUDE", "52.52"))
HEMS_DEFAULT_LONGITUDE = float(os.environ.get("HEMS_DEFAULT_LONGITUDE", "13.405"))
HEMS_DEFAULT_TIME_ZONE = os.environ.get("HEMS_DEFAULT_TIME_ZONE", "Europe/Berlin")

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
    "hems.devices",
    "hems.simulation",
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

AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]

# GraphQL: the schema is assembled from the drivers at start-up (hems.api.schema).
GRAPHENE = {
    "SCHEMA": "hems.api.schema.schema",
    "ATOMIC_MUTATIONS": True,  # a mutation that fails writes nothing
    "SCHEMA_OUTPUT": "schema.graphql",
}
HEMS_GRAPHIQL = env_bool("HEMS_GRAPHIQL", DEBUG)
HEMS_GRAPHQL_INTROSPECTION = env_bool("HEMS_GRAPHQL_INTROSPECTION", DEBUG)
HEMS_GRAPHQL_MAX_QUERY_LENGTH = int(os.environ.get("HEMS_GRAPHQL_MAX_QUERY_LENGTH", "8000"))
HEMS_GRAPHQL_MAX_DEPTH = int(os.environ.get("HEMS_GRAPHQL_MAX_DEPTH", "8"))
HEMS_GRAPHQL_MAX_FIELDS = int(os.environ.get("HEMS_GRAPHQL_MAX_FIELDS", "250"))
HEMS_HISTORY_MAX_BUCKETS = int(os.environ.get("HEMS_HISTORY_MAX_BUCKETS", "2000"))

GRAPHQL_JWT = {
    "JWT_SECRET_KEY": os.environ.get("JWT_SECRET_KEY", SECRET_KEY),
    "JWT_ALGORITHM": "HS256",
    "JWT_VERIFY_EXPIRATION": True,
    "JWT_EXPIRATION_DELTA": timedelta(seconds=int(os.environ.get("JWT_ACCESS_TTL_SECONDS", "900"))),
    "JWT_LONG_RUNNING_REFRESH_TOKEN": True,
    "JWT_REFRESH_EXPIRATION_DELTA": timedelta(seconds=int(os.environ.get("JWT_REFRESH_TTL_SECONDS", str(7 * 86400)))),
    "JWT_AUTH_HEADER_PREFIX": "Bearer",
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
STATIC_ROOT = os.environ.get("STATIC_ROOT", str(BASE_DIR / "staticfiles"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
