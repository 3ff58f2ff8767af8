"""``python -m hems.database_check``: can the configured database be reached? One line
and a non-zero exit when not, naming the setting, instead of a traceback from deep
inside ``migrate``. ``bin/hems migrate`` (and so ``bin/hems all``) runs it first."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured


def without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def problem() -> str | None:
    """Why the database cannot be used, in one line, or None when it answers."""
    try:
        from django.conf import settings
        from django.db import DatabaseError, connections

        settings.DATABASES  # noqa: B018 (reading the settings is the first check)
    except ImproperlyConfigured as exc:
        return f"hems is not configured: {' '.join(str(exc).split())}"
    url = os.environ.get("DATABASE_URL")
    if settings.EMBEDDED:
        # SQLite makes the file but not its folder (which the generated key makes, when
        # SECRET_KEY is not given).
        Path(settings.DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    where = (
        f"DATABASE_URL={without_password(url)}"
        if url
        else f"the embedded database {settings.DATABASES['default']['NAME']}"
    )
    try:
        connections["default"].ensure_connection()
    except DatabaseError as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        hint = (
            "set DATABASE_URL to a PostgreSQL database you can reach (create it first), or unset DATABASE_URL "
            "and REDIS_URL for the embedded mode"
            if url
            else f"check that {settings.DATABASES['default']['NAME']} can be written (HEMS_DATA_DIR)"
        )
        return f"cannot reach {where}: {reason}. {hint[0].upper()}{hint[1:]}."
    finally:
        connections.close_all()
    return None


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hems.settings")
    found = problem()
    if found:
        print(f"bin/hems: {found}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
