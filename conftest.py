"""hems's own test configuration (the driver kit's fixtures come from hems.testing)."""

import os

import pytest

# Fixtures shared by the tick's tests (a home of every kind, eager Celery).
pytest_plugins = ["hems.tests.energy_api"]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Give each test run its own PostgreSQL database, so concurrent runs never collide."""
    from django.conf import settings

    suffix = os.environ.get("HEMS_TEST_RUN_ID") or str(os.getpid())
    for db in settings.DATABASES.values():
        if not db["ENGINE"].endswith("sqlite3"):
            db.setdefault("TEST", {})["NAME"] = f"test_{db['NAME']}_{suffix}"
