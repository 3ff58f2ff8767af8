"""allDevices's compiled listing answers exactly what the queryset it replaces answers."""

from __future__ import annotations

import gc
import weakref
from datetime import UTC, datetime

import pytest
from django.db import connection, models
from django.test.utils import CaptureQueriesContext

from hems.api.devices.listing import devices_of
from hems.api.devices.types import for_graphql_list
from hems.devices.models import Device, KindRecord
from hems.simulation.tick import run_tick
from hems.tests.factories import kind_keys, make_device

pytestmark = pytest.mark.django_db


def loaded(device) -> dict:
    """Everything a model instance holds: its fields and what was loaded with it."""
    related = {name: vars(value) if value is not None else None for name, value in device._state.fields_cache.items()}
    return {
        "type": type(device),
        "fields": {name: value for name, value in vars(device).items() if name != "_state"},
        "db": device._state.db,
        "adding": device._state.adding,
        "related": {name: {k: v for k, v in (value or {}).items() if k != "_state"} for name, value in related.items()},
    }


def every_kind_and_an_orphan(user, other_user) -> None:
    """A device of every kind, one whose driver is gone, another user's, and a tick."""
    for key in kind_keys():
        make_device(user, key)
    orphan = make_device(user, kind_keys()[0], name="Orphan")
    KindRecord.objects.create(key="retired_kind", device_type=orphan.device_type, label="Retired", driver="gone")
    Device.objects.filter(pk=orphan.pk).update(kind="retired_kind")
    make_device(other_user, kind_keys()[0])
    run_tick(datetime(2026, 6, 22, 10, 20, tzinfo=UTC))


def test_the_listing_loads_what_the_queryset_loads(user, other_user):
    """Given a device of every kind, one whose driver is gone, another user's, and a tick,
    the listing equals ``with_kinds().owned_by()`` in order, types, fields and states."""
    every_kind_and_an_orphan(user, other_user)

    expected = list(Device.objects.with_kinds().owned_by(user))
    with CaptureQueriesContext(connection) as queries:
        listed = devices_of(user.pk)
    assert len(queries) == 1
    assert [loaded(device) for device in listed] == [loaded(device) for device in expected]
    assert [loaded(device.specific) for device in listed] == [loaded(device.specific) for device in expected]
    assert len(listed) == len(kind_keys()) + 1 and all(device.state is not None for device in listed)


def test_an_owner_without_devices_gets_none(user):
    assert devices_of(user.pk) == []


def test_a_listing_is_freed_without_the_garbage_collector(user, other_user):
    """allDevices's instances hold no cycle: they are gone the moment the answer drops
    them, not at a later pass of the collector (which walked a dozen listings' rows, and
    took 5 to 12 ms of whichever request set it off)."""
    every_kind_and_an_orphan(user, other_user)
    gc.collect()
    gc.disable()
    try:
        before = {id(obj) for obj in gc.get_objects() if isinstance(obj, models.Model)}
        listed = for_graphql_list(devices_of(user.pk))
        with CaptureQueriesContext(connection) as queries:
            # What the answer reads stays loaded: the state and the kind's own fields.
            powers = [device.state.power_w for device in listed]
            names = [device.name for device in listed]
        assert len(queries) == 0 and len(powers) == len(names) == len(kind_keys()) + 1
        made = [weakref.ref(obj) for obj in gc.get_objects() if isinstance(obj, models.Model) and id(obj) not in before]
        # each device's row, its kind's row (the orphan has none) and its state
        assert len(made) >= 3 * len(listed) - 1
        del listed
        assert [type(ref()).__name__ for ref in made if ref() is not None] == []
    finally:
        gc.enable()
