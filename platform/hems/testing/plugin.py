"""pytest plugin of hems: the fixtures and parametrization of the driver contract kit."""

from __future__ import annotations

import pytest


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
