"""The signing key when none is configured: refused in production, generated once in embedded mode."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

# Known to everyone who has read this file: accepted only while DEBUG is explicitly on.
DEVELOPMENT_KEY = "dev-only-insecure-key-do-not-use-in-production"


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


# The placeholders of .env.example: they start the local quickstart (plain HTTP on
# localhost) but are public, so a deployment served over TLS may not use them.
EXAMPLE_KEYS = frozenset(
    {"change-me-to-a-long-random-string-of-50-characters-or-more", "change-me-too-another-long-random-string"}
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
