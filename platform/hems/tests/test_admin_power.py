"""The admin shows power and levels as people read them: rounded, with units, and a
storage device's direction (charging or discharging) by its sign."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hems.devices.models import DeviceState
from hems.plugins import registry
from hems.tests.factories import kind_keys, make_device, storage_kind_keys

pytestmark = pytest.mark.django_db

DEVICES = reverse("admin:devices_device_changelist")


@pytest.fixture
def storage_pair(user):
    key = storage_kind_keys()[0]
    charging = make_device(user, key, name="charging one")
    discharging = make_device(user, key, name="discharging one")
    capacity = DeviceState.objects.get(pk=charging.pk).capacity_wh
    DeviceState.objects.filter(pk=charging.pk).update(power_w=1200.4, flow_w=1200.4, level_wh=capacity / 2 + 0.4)
    DeviceState.objects.filter(pk=discharging.pk).update(power_w=799.6, flow_w=-799.6, level_wh=0.3)
    return key, charging, discharging, capacity


def test_the_device_list_shows_storage_direction_by_sign(admin_client, storage_pair):
    _, _, _, capacity = storage_pair
    html = admin_client.get(DEVICES).content.decode()
    assert "+1,200 W charging" in html
    assert "\u2212800 W discharging" in html
    assert f"{round(capacity / 2):,} Wh (50%)" in html and "0 Wh (0%)" in html
    assert "1200.4" not in html and "799.6" not in html  # rounded


def test_the_kind_page_shows_the_same(admin_client, storage_pair):
    key, charging, discharging, _ = storage_pair
    model = registry().kind(key).model
    listing = admin_client.get(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"))
    assert "+1,200 W charging" in listing.content.decode()
    page = admin_client.get(
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[discharging.pk])
    ).content.decode()
    assert "\u2212800 W discharging" in page and "\u2212800 W" in page  # power and storage flow


def test_a_producer_or_consumer_shows_its_power_rounded_without_a_direction(admin_client, user):
    device = make_device(user, next(k for k in kind_keys() if k not in storage_kind_keys()), name="plain one")
    DeviceState.objects.filter(pk=device.pk).update(power_w=2345.6)
    html = admin_client.get(DEVICES).content.decode()
    assert "2,346 W" in html and "2,346 W charging" not in html


def test_an_offline_storage_device_shows_no_power(admin_client, storage_pair):
    _, charging, _, _ = storage_pair
    type(charging).objects.filter(pk=charging.pk).update(status="offline")
    html = admin_client.get(DEVICES).content.decode()
    assert "+1,200 W charging" not in html
