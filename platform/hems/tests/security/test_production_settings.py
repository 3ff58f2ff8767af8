"""Production settings: what a deployment gets without asking, what it must give, and
what embedded mode does for a newcomer with no environment at all."""

from __future__ import annotations

import json
import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]
SHOW = (
    "import json; from django.conf import settings as s; print(json.dumps({k: getattr(s, k) for k in ("
    "'DEBUG', 'SECRET_KEY', 'HEMS_GRAPHIQL', 'HEMS_GRAPHQL_INTROSPECTION', 'SECURE_SSL_REDIRECT', "
    "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_HSTS_SECONDS', 'SECURE_PROXY_SSL_HEADER', "
    "'ALLOWED_HOSTS', 'EMBEDDED')}))"
)


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """``manage.py`` in a fresh process with only the given environment (and a PATH)."""
    clean = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), **env}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def production(**changes: str) -> dict[str, str]:
    env = {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50)[:50],
        "ALLOWED_HOSTS": "hems.example.org",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/hems",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
    }
    env.update(changes)
    return {k: v for k, v in env.items() if v is not None}


def shown(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


pytestmark = pytest.mark.slow


def test_check_deploy_passes_with_the_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **production())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout + result.stderr


def test_a_deployment_is_secure_by_default():
    values = shown(manage("shell", "-c", SHOW, **production(DEBUG=None)))
    assert values["DEBUG"] is False and values["EMBEDDED"] is False
    assert values["HEMS_GRAPHIQL"] is False and values["HEMS_GRAPHQL_INTROSPECTION"] is False
    assert values["SECURE_SSL_REDIRECT"] and values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"]
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["ALLOWED_HOSTS"] == ["hems.example.org"]


@pytest.mark.parametrize(
    "secret_key", [None, "", "dev-only-insecure-key-do-not-use-in-production"], ids=["unset", "empty", "dev key"]
)
def test_a_deployment_without_its_own_secret_key_refuses_to_start(secret_key):
    result = manage("check", **production(SECRET_KEY=secret_key))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "SECRET_KEY" in result.stderr


@pytest.mark.parametrize("minutes", ["0", "61", "ten", "-5", "1.5"])
def test_a_filing_spread_that_is_not_a_minute_count_refuses_to_start(minutes):
    result = manage("check", **production(HEMS_DEVICE_HOUR_FILING_MINUTES=minutes))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "HEMS_DEVICE_HOUR_FILING_MINUTES" in result.stderr
    assert repr(minutes) in result.stderr, result.stderr[-800:]


def test_debug_on_a_development_machine_needs_no_key():
    values = shown(manage("shell", "-c", SHOW, **production(DEBUG="1", SECRET_KEY=None)))
    assert values["DEBUG"] is True and values["SECURE_SSL_REDIRECT"] is False


def test_embedded_mode_starts_with_no_environment_and_keeps_one_generated_key(tmp_path):
    first = shown(manage("shell", "-c", SHOW, HEMS_DATA_DIR=str(tmp_path)))
    second = shown(manage("shell", "-c", SHOW, HEMS_DATA_DIR=str(tmp_path)))
    assert first["EMBEDDED"] is True and first["DEBUG"] is False
    assert first["SECURE_SSL_REDIRECT"] is False  # served on http://127.0.0.1 to its one user
    key_file = tmp_path / "secret_key"
    assert first["SECRET_KEY"] == second["SECRET_KEY"] == key_file.read_text().strip()
    assert len(first["SECRET_KEY"]) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    third = shown(manage("shell", "-c", SHOW, HEMS_DATA_DIR=str(tmp_path / "elsewhere")))
    assert third["SECRET_KEY"] != first["SECRET_KEY"]


@pytest.mark.parametrize("name", ["SECRET_KEY", "JWT_SECRET_KEY"])
def test_the_env_example_placeholders_are_refused_behind_tls_but_start_the_quickstart(name):
    placeholders = {
        line.split("=", 1)[0]: line.split("=", 1)[1]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#") and "=" in line
    }
    env = production(**{name: placeholders[name]})
    refused = manage("check", **env)
    assert refused.returncode != 0 and ".env.example" in refused.stderr
    quickstart = manage("check", **{**env, "HEMS_HTTPS": placeholders["HEMS_HTTPS"]})
    assert quickstart.returncode == 0, quickstart.stderr[-2000:]


WEAK_KEYS = {
    "one character": "x",
    "49 characters": secrets.token_urlsafe(50)[:49],
    "4 distinct characters": "abcd" * 20,
    "django-insecure prefix": "django-insecure-" + secrets.token_urlsafe(50),
}


@pytest.mark.parametrize(
    ("name", "weak"),
    [("JWT_SECRET_KEY", weak) for weak in sorted(WEAK_KEYS)]
    + [("SECRET_KEY", "one character"), ("SECRET_KEY", "49 characters")],
)
def test_a_weak_signing_key_refuses_to_start(name, weak):
    # Django's own rule for SECRET_KEY (security.W009), held for both keys at start-up:
    # a token signed with a guessable key would authenticate anyone.
    result = manage("check", "--deploy", **production(**{name: WEAK_KEYS[weak]}))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and f"{name} is too weak" in result.stderr, result.stderr[-800:]


def test_an_empty_jwt_secret_key_is_refused_rather_than_silently_used():
    result = manage("check", **production(JWT_SECRET_KEY=""))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "JWT_SECRET_KEY is set but empty" in result.stderr


JWT_KEY = "import json; from django.conf import settings as s; print(json.dumps(s.GRAPHQL_JWT['JWT_SECRET_KEY']))"


def test_tokens_are_signed_with_jwt_secret_key_or_else_secret_key():
    env = production()
    assert json.loads(manage("shell", "-c", JWT_KEY, **env).stdout.splitlines()[-1]) == env["SECRET_KEY"]
    own = secrets.token_urlsafe(50)
    assert json.loads(manage("shell", "-c", JWT_KEY, **{**env, "JWT_SECRET_KEY": own}).stdout.splitlines()[-1]) == own


def test_debug_on_a_development_machine_accepts_a_short_jwt_key():
    result = manage("shell", "-c", JWT_KEY, **production(DEBUG="1", JWT_SECRET_KEY="dev"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.splitlines()[-1]) == "dev"
