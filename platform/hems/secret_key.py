"""The signing key when none is configured: refused in production, generated once in embedded mode."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from django.core.exceptions import ImproperlyConfigured

# Known to everyone who has read this file: accepted only while DEBUG is explicitly on.
DEVELOPMENT_KEY = "dev-only-insecure-key-do-not-use-in-production"
MAKE_ONE = "python -c 'import secrets; print(secrets.token_urlsafe(50))'"


def weakness(key: str) -> str | None:
    """Why a signing key is too weak, by Django's own rule for SECRET_KEY (``check
    --deploy``'s security.W009), or None when it is strong enough."""
    if len(key) < SECRET_KEY_MIN_LENGTH:
        return f"it has {len(key)} characters, fewer than {SECRET_KEY_MIN_LENGTH}"
    if len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS:
        return f"it has fewer than {SECRET_KEY_MIN_UNIQUE_CHARACTERS} distinct characters"
    if key.startswith(SECRET_KEY_INSECURE_PREFIX):
        return f"it starts with {SECRET_KEY_INSECURE_PREFIX!r}, Django's mark of a development key"
    return None


def refuse_weak(name: str, key: str, *, debug: bool) -> None:
    """A key anyone could guess signs nothing outside DEBUG: refuse to start with it."""
    reason = weakness(key)
    if reason is not None and not debug:
        raise ImproperlyConfigured(
            f"{name} is too weak to sign with ({reason}): set it to a long random string ({MAKE_ONE})."
        )


def persisted_key(path: Path) -> str:
    """The key kept in ``path``, created (mode 0600) with a random value the first time.

    The web server and the ticker may start together: the key is written to a private
    temporary file and hard-linked into place, so whoever links first wins and every
    process reads the same key.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    key = path.read_text().strip()
    if not key:
        raise ImproperlyConfigured(f"The secret key file {path} is empty: delete it to have a new key generated.")
    return key


def secret_key(configured: str | None, *, debug: bool, embedded: bool, data_dir: Path) -> str:
    """SECRET_KEY from the environment; without it, a generated one in embedded mode and the
    development key in debug mode. Anything else refuses to start."""
    if configured:
        if configured == DEVELOPMENT_KEY and not debug:
            raise ImproperlyConfigured(
                "SECRET_KEY is the public development key while DEBUG is off: set SECRET_KEY to a long random "
                "string (python -c 'import secrets; print(secrets.token_urlsafe(50))')."
            )
        refuse_weak("SECRET_KEY", configured, debug=debug)
        return configured
    if embedded:
        return persisted_key(data_dir / "secret_key")
    if debug:
        return DEVELOPMENT_KEY
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. With DATABASE_URL or REDIS_URL set hems runs as a deployment and needs its own "
        "signing key: set SECRET_KEY to a long random string (python -c 'import secrets; "
        "print(secrets.token_urlsafe(50))'), or DEBUG=1 on a development machine."
    )


def jwt_secret_key(configured: str | None, *, secret_key: str, debug: bool) -> str:
    """The key that signs access tokens: JWT_SECRET_KEY, or SECRET_KEY when it is unset.

    Set but empty is refused rather than taken as unset or as an empty key: either would
    be a silent surprise. A weak key is refused outside DEBUG, as SECRET_KEY is.
    """
    if configured is None:
        return secret_key
    if not configured.strip():
        raise ImproperlyConfigured(
            f"JWT_SECRET_KEY is set but empty: remove it to sign tokens with SECRET_KEY, or set it to a long "
            f"random string ({MAKE_ONE})."
        )
    refuse_weak("JWT_SECRET_KEY", configured, debug=debug)
    return configured


# The placeholders of .env.example: they start the local quickstart (plain HTTP on
# localhost) but are public, so a deployment served over TLS may not use them.
EXAMPLE_KEYS = frozenset(
    {
        "change-me-to-a-long-random-string-of-50-characters-or-more",
        "change-me-too-another-long-random-string-of-50-characters-or-more",
        "change-me-too-another-long-random-string",  # an older .env.example's
    }
)


def refuse_example_keys(environ, *, https: bool) -> None:
    """Refuse to start behind TLS with a key copied from .env.example."""
    if not https:
        return
    for name in ("SECRET_KEY", "JWT_SECRET_KEY"):
        if environ.get(name) in EXAMPLE_KEYS:
            raise ImproperlyConfigured(
                f"{name} is the placeholder from .env.example: set it to a long random string "
                "(python -c 'import secrets; print(secrets.token_urlsafe(50))')."
            )
