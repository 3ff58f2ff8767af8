"""The admin is staff-only, and staff see and change only what their permissions allow."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from hems.devices.models import Device
from hems.plugins import registry
from hems.tests.factories import kind_keys, make_device
from hems.tests.security.snapshot import database

pytestmark = pytest.mark.django_db

DEVICES = reverse("admin:devices_device_changelist")


def kind_urls(device):
    model = registry().kind(device.kind).model
    meta = model._meta
    return (
        reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"),
        reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[device.pk]),
    )


@pytest.fixture
def devices(other_user):
    return [make_device(other_user, key, name=f"bobs {key}") for key in kind_keys()]


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("staffer", password="staff pass 12345", is_staff=True)


def login(client, user):
    client.force_login(user)
    return client


def test_users_who_are_not_staff_are_sent_to_the_login_page(client, user, devices):
    login(client, user)
    for url in (reverse("admin:index"), DEVICES, *kind_urls(devices[0])):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login")), url


def test_staff_without_permissions_see_nothing(client, staff, devices):
    login(client, staff)
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert not index.context["app_list"]
    assert client.get(DEVICES).status_code == 403
    for device in devices:
        for url in kind_urls(device):
            assert client.get(url).status_code == 403, url
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403


def test_staff_who_may_view_devices_list_them_but_change_nothing(client, staff, devices):
    staff.user_permissions.add(Permission.objects.get(codename="view_device", content_type__app_label="devices"))
    login(client, staff)
    listing = client.get(DEVICES)
    assert listing.status_code == 200
    content = listing.content.decode()
    assert all(device.name in content for device in devices)
    assert "set_offline" not in content  # the bulk actions need the change permission
    before = database()
    # A change through the actions or the page is refused.
    client.post(DEVICES, {"action": "set_offline", "_selected_action": [d.pk for d in devices]})
    device = devices[0]
    base_change = reverse("admin:devices_device_change", args=[device.pk])
    client.post(base_change, {"name": "renamed by staff", "status": "offline"})
    assert client.post(reverse("admin:devices_device_delete", args=[device.pk]), {"post": "yes"}).status_code == 403
    for url in kind_urls(device):  # the kind's own page needs the kind's own permissions
        assert client.get(url).status_code == 403
    assert database() == before
    assert Device.objects.filter(status="offline").count() == 0


def test_superusers_can_change_devices(admin_client, devices):
    response = admin_client.post(DEVICES, {"action": "set_offline", "_selected_action": [d.pk for d in devices]})
    assert response.status_code == 302
    assert Device.objects.filter(status="offline").count() == len(devices)
