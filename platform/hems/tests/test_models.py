"""The Device base, live state and home profile, whatever drivers are installed."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from hems.devices.models import Device, DeviceState, Home, KindRecord
from hems.plugins import registry
from hems.tests.factories import kind_keys, make_device, storage_kind_keys

pytestmark = pytest.mark.django_db


def test_every_installed_kind_is_catalogued_for_the_database():
    records = {r.key: r for r in KindRecord.objects.all()}
    for key, kind in registry().kinds.items():
        assert records[key].installed and records[key].device_type == kind.device_type


def test_unknown_kind_refused_by_the_model_naming_the_field(user):
    device = Device(name="Toaster", kind="toaster", device_type="consumption", owner=user)
    with pytest.raises(ValidationError) as refused:
        device.full_clean()
    assert "kind" in refused.value.message_dict
    assert "toaster" in refused.value.message_dict["kind"][0]


def test_unknown_kind_refused_by_the_database(user):
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        Device.objects.create(name="Toaster", kind="toaster", device_type="consumption", owner=user)
    assert "kind" in str(refused.value)
    assert not Device.objects.exists()


def test_a_kind_with_the_wrong_device_type_is_refused_by_the_database(user):
    key = kind_keys()[0]
    wrong = "production" if registry().kind(key).device_type != "production" else "consumption"
    with pytest.raises(IntegrityError), transaction.atomic():
        Device.objects.create(name="Mislabelled", kind=key, device_type=wrong, owner=user)


def test_a_device_without_a_name_is_refused(user):
    device = registry().kind(kind_keys()[0]).model(name="   ", owner=user, **registry().kind(kind_keys()[0]).example)
    with pytest.raises(ValidationError) as refused:
        device.full_clean()
    assert "name" in refused.value.message_dict


@pytest.mark.parametrize("kind_key", kind_keys())
def test_kind_and_device_type_come_from_the_model(user, kind_key):
    device = make_device(user, kind_key)
    assert device.kind == kind_key
    assert device.device_type == registry().kind(kind_key).device_type
    assert DeviceState.objects.get(pk=device.pk).power_w == 0


@pytest.mark.parametrize("kind_key", storage_kind_keys())
def test_level_above_capacity_refused_by_the_state_table(user, kind_key):
    device = make_device(user, kind_key)
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        DeviceState.objects.filter(pk=device.pk).update(level_wh=device.capacity_wh + 1)
    assert "level_wh" in str(refused.value)


@pytest.mark.parametrize("kind_key", storage_kind_keys())
def test_the_level_is_set_at_creation_only(user, kind_key):
    device = make_device(user, kind_key)
    device.level_wh = 1.0
    with pytest.raises(ValidationError) as refused:
        device.full_clean()
    assert "level_wh" in refused.value.message_dict


def test_negative_power_refused_by_the_state_table(user):
    device = make_device(user, kind_keys()[0])
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        DeviceState.objects.filter(pk=device.pk).update(power_w=-1)
    assert "power_w" in str(refused.value)


def list_devices(user):
    with CaptureQueriesContext(connection) as queries:
        rows = [
            (
                d.specific.kind,
                d.specific.state.power_w,
                *(getattr(d.specific, f) for f in registry().kind(d.kind).fields),
            )
            for d in Device.objects.with_kinds().owned_by(user)
        ]
    return rows, len(queries)


def test_listing_all_devices_with_their_kind_fields_takes_constant_queries(user, other_user):
    make_device(user, kind_keys()[0])
    one, queries_for_one = list_devices(user)
    for i in range(60):
        make_device(user, kind_keys()[i % len(kind_keys())], name=f"device {i}")
    make_device(other_user, kind_keys()[0])
    sixty_one, queries_for_many = list_devices(user)
    assert len(one) == 1 and len(sixty_one) == 61
    assert {row[0] for row in sixty_one} == set(kind_keys())
    assert queries_for_one == queries_for_many == 1


def test_devices_list_newest_first(user):
    first = make_device(user, kind_keys()[0], name="first")
    second = make_device(user, kind_keys()[-1], name="second")
    assert list(Device.objects.owned_by(user).values_list("pk", flat=True)) == [second.pk, first.pk]


def test_every_user_gets_a_home_at_the_default_location(user, settings):
    home = Home.objects.get(owner=user)
    assert (home.latitude, home.longitude, home.time_zone) == (
        settings.HEMS_DEFAULT_LATITUDE,
        settings.HEMS_DEFAULT_LONGITUDE,
        settings.HEMS_DEFAULT_TIME_ZONE,
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"latitude": 91}, "latitude"), ({"longitude": -181}, "longitude"), ({"time_zone": "Mars/Olympus"}, "time_zone")],
)
def test_bad_home_refused_naming_the_field(user, changes, field):
    home = Home.objects.get(owner=user)
    for name, value in changes.items():
        setattr(home, name, value)
    with pytest.raises(ValidationError) as refused:
        home.full_clean()
    assert field in refused.value.message_dict


def test_bad_coordinates_refused_by_the_database(user):
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        Home.objects.filter(owner=user).update(latitude=100)
    assert "latitude" in str(refused.value)


def test_deleting_a_device_deletes_its_state_and_kind_row(user):
    device = make_device(user, kind_keys()[0])
    model = type(device)
    Device.objects.filter(pk=device.pk).delete()
    assert not DeviceState.objects.filter(pk=device.pk).exists()
    assert not model.objects.filter(pk=device.pk).exists()


def test_state_table_leaves_room_for_hot_updates():
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'hems_device_state'")
        (options,) = cursor.fetchone()
    assert "fillfactor=50" in options
