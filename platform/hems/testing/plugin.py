"""pytest plugin of hems: the fixtures and parametrization of the driver contract kit."""

from __future__ import annotations

import os
import uuid

import pytest


@pytest.fixture(scope="session", autouse=True)
def hems_redis_prefix():
    """Give the test run its own Redis key prefix, so runs never read each other's keys."""
    from django.conf import settings

    settings.HEMS_REDIS_PREFIX = f"hems-test-{os.getpid()}-{uuid.uuid4().hex[:8]}:"
    yield settings.HEMS_REDIS_PREFIX
    flush_redis_prefix(settings.HEMS_REDIS_PREFIX)


@pytest.fixture(scope="session", autouse=True)
def hems_quick_password_hashing():
    """Hash test users' passwords with few iterations (``hems.testing.hashers``): the
    deployed million takes half a second a password, for every user a test creates or
    signs in. The deployed hashers stay behind it, so any stored hash verifies."""
    from django.conf import settings
    from django.test.utils import override_settings

    quick = override_settings(
        PASSWORD_HASHERS=["hems.testing.hashers.QuickPBKDF2PasswordHasher", *settings.PASSWORD_HASHERS]
    )
    quick.enable()  # sends setting_changed: Django forgets the hashers it had cached
    yield
    quick.disable()


@pytest.fixture(autouse=True)
def hems_redis_clean(hems_redis_prefix):
    """Each test starts with no cached stats (the database is rolled back; so is Redis)."""
    yield
    flush_redis_prefix(hems_redis_prefix)


def flush_redis_prefix(prefix: str) -> None:
    import redis

    from hems.energy import cache

    try:
        client = cache.client()
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    except redis.RedisError:
        pass  # tests that need Redis fail on their own


@pytest.fixture
def user(django_user_model):
    """A homeowner."""
    return django_user_model.objects.create_user(username="alice", password="correct horse staple 42")


@pytest.fixture
def other_user(django_user_model):
    """Another homeowner, whose devices the first must never reach."""
    return django_user_model.objects.create_user(username="bob", password="another long passphrase")


@pytest.fixture
def api(client):
    """A GraphQL client posting real HTTP requests to /graphql/ (see hems.testing.api)."""
    from hems.testing.api import Api

    return Api(client)


def pytest_generate_tests(metafunc):
    """Parametrize the contract's tests over the kinds and invalid cases a driver declares."""
    from hems.testing.contract import DriverContract

    cls = metafunc.cls
    if cls is None or not issubclass(cls, DriverContract):
        return
    if "kind_key" in metafunc.fixturenames and "case" in metafunc.fixturenames:
        params = [(k, c) for k, cases in cls.invalid.items() for c in cases]
        metafunc.parametrize(("kind_key", "case"), params, ids=[f"{k}-{c}" for k, c in params])
    elif "kind_key" in metafunc.fixturenames:
        metafunc.parametrize("kind_key", sorted(cls.valid))
