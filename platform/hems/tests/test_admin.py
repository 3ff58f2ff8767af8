"""The admin: one list across all kinds, per-kind pages, users with their devices."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from hems.devices.models import Device, DeviceState
from hems.plugins import registry
from hems.tests.factories import kind_keys, make_device, storage_kind_keys

pytestmark = pytest.mark.django_db

DEVICES = reverse("admin:devices_device_changelist")


@pytest.fixture
def fleet(user, other_user):
    """One device of every kind for alice, one for bob."""
    mine = [make_device(user, key, name=f"alice {key}") for key in kind_keys()]
    theirs = make_device(other_user, kind_keys()[0], name="bob's device")
    return mine, theirs


def test_one_list_shows_every_kind_with_its_live_state(admin_client, fleet):
    mine, _ = fleet
    storage = next(d for d in mine if d.kind in storage_kind_keys())
    DeviceState.objects.filter(pk=storage.pk).update(power_w=1234.5, level_wh=4321.0)
    page = admin_client.get(DEVICES)
    html = page.content.decode()
    assert page.status_code == 200
    for device in mine:
        assert device.name in html
    for column in ("kind", "device type", "owner", "status", "power", "level"):
        assert column.lower() in html.lower()
    assert "1,234 W" in html and "4,321 Wh" in html


@pytest.mark.parametrize("kind_key", kind_keys())
def test_the_list_filters_by_kind(admin_client, fleet, kind_key):
    page = admin_client.get(DEVICES, {"kind": kind_key})
    names = {d.name for d in page.context["cl"].result_list}
    assert names == {f"alice {kind_key}"} | ({"bob's device"} if kind_key == kind_keys()[0] else set())


def test_the_list_filters_by_device_type_status_and_owner(admin_client, fleet, other_user):
    mine, theirs = fleet
    Device.objects.filter(pk=mine[0].pk).update(status="offline")
    by_type = admin_client.get(DEVICES, {"device_type__exact": "storage"}).context["cl"].result_list
    assert {d.kind for d in by_type} == set(storage_kind_keys())
    offline = admin_client.get(DEVICES, {"status__exact": "offline"}).context["cl"].result_list
    assert [d.pk for d in offline] == [mine[0].pk]
    owned = admin_client.get(DEVICES, {"owner__id__exact": other_user.pk}).context["cl"].result_list
    assert [d.pk for d in owned] == [theirs.pk]


def test_the_list_searches_by_name_and_owner(admin_client, fleet):
    assert [d.name for d in admin_client.get(DEVICES, {"q": "bob"}).context["cl"].result_list] == ["bob's device"]
    found = admin_client.get(DEVICES, {"q": f"alice {kind_keys()[-1]}"}).context["cl"].result_list
    assert [d.name for d in found] == [f"alice {kind_keys()[-1]}"]


def test_actions_set_devices_offline_and_online(admin_client, fleet):
    mine, theirs = fleet
    chosen = [mine[0].pk, mine[1].pk]
    admin_client.post(DEVICES, {"action": "set_offline", "_selected_action": chosen})
    assert set(Device.objects.filter(status="offline").values_list("pk", flat=True)) == set(chosen)
    admin_client.post(DEVICES, {"action": "set_online", "_selected_action": chosen[:1]})
    assert list(Device.objects.filter(status="offline").values_list("pk", flat=True)) == chosen[1:]


def test_a_device_opens_on_its_kind_page(admin_client, fleet):
    device = fleet[0][0]
    response = admin_client.get(reverse("admin:devices_device_change", args=[device.pk]))
    model = registry().kind(device.kind).model
    assert response.status_code == 302
    assert response.url == reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[device.pk])


def test_live_state_and_timestamps_are_read_only_on_kind_pages(admin_client, fleet):
    device = fleet[0][0]
    model = registry().kind(device.kind).model
    page = admin_client.get(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[device.pk]))
    form = page.context["adminform"].form
    for name in ("created_at", "updated_at", "power_w", "simulated_at"):
        assert name not in form.fields
    assert "name" in form.fields and "status" in form.fields


def test_a_kind_page_refuses_bad_attributes_and_writes_nothing(admin_client, user):
    key = storage_kind_keys()[0]
    kind = registry().kind(key)
    data = {"name": "Too full", "owner": user.pk, "status": "online", **kind.example}
    data["level_wh"] = data["capacity_wh"] * 2
    model = kind.model
    page = admin_client.post(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add"), data)
    assert page.status_code == 200
    assert "level_wh" in page.context["adminform"].form.errors
    assert not Device.objects.exists()


def test_users_are_listed_with_their_home_and_devices(admin_client, fleet, user):
    page = admin_client.get(reverse("admin:auth_user_change", args=[user.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Home" in html and "latitude" in html
    for device in fleet[0]:
        assert device.name in html
    assert "bob's device" not in html


def test_the_admin_is_for_staff_only(client, user, fleet):
    client.force_login(user)
    response = client.get(DEVICES)
    assert response.status_code == 302 and "/login/" in response.url


def test_staff_without_permissions_see_nothing_and_with_view_permission_cannot_change(client, django_user_model, fleet):
    staff = django_user_model.objects.create_user("operator", password="operator password 1", is_staff=True)
    client.force_login(staff)
    assert client.get(DEVICES).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_device"))
    assert client.get(DEVICES).status_code == 200
    device = fleet[0][0]
    client.post(DEVICES, {"action": "set_offline", "_selected_action": [device.pk]})
    assert Device.objects.get(pk=device.pk).status == "online"
