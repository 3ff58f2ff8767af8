"""The admin shows a live device's source, last report and why it is offline, rotates
its credentials (the password shown once) and sends its controllable changes as commands."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse
from freezegun import freeze_time

from hems.devices.models import DeviceCommand, DeviceCredentials, DeviceState
from hems.live.credentials import verify
from hems.tests.factories import kind_keys, make_device, storage_kind_keys

pytestmark = pytest.mark.django_db
DEVICES = reverse("admin:devices_device_changelist")


def change_url(device):
    meta = type(device)._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[device.pk])


def test_a_stale_live_device_shows_its_source_last_report_and_reason(admin_client, user):
    device = make_device(user, kind_keys()[0], source="live")
    DeviceState.objects.filter(pk=device.pk).update(reported_at=datetime(2026, 6, 1, 10, 0, tzinfo=UTC))
    with freeze_time("2026-06-01T11:00:00Z"):
        listing = admin_client.get(DEVICES).content.decode()
        page = admin_client.get(change_url(device)).content.decode()
    assert "Live" in listing and "no report since 2026-06-01T10:00:00Z" in listing
    assert "no report since 2026-06-01T10:00:00Z" in page and 'name="source"' in page


def test_the_rotate_action_shows_the_password_once_and_keeps_a_hash(admin_client, user):
    live = make_device(user, kind_keys()[0], source="live")
    simulated = make_device(user, kind_keys()[0])
    response = admin_client.post(
        DEVICES, {"action": "rotate_credentials", "_selected_action": [live.pk, simulated.pk]}, follow=True
    )
    texts = [str(m) for m in response.context["messages"]]
    stored = DeviceCredentials.objects.get(device=live)
    shown = next(t for t in texts if stored.username in t)
    password = shown.split("password ")[1].split(" ")[0]
    assert verify(password, stored.password_hash) and password not in stored.password_hash
    assert any("not a live device" in t for t in texts)
    assert not DeviceCredentials.objects.filter(device=simulated).exists()


def test_an_admin_change_of_mode_is_sent_as_a_command(admin_client, user):
    device = make_device(user, storage_kind_keys()[0], source="live", mode="idle")
    page = admin_client.get(change_url(device))
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(mode="charging", owner=user.pk)
    response = admin_client.post(change_url(device), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    command = DeviceCommand.objects.get(device=device)
    assert (command.field, command.value, command.state) == ("mode", "charging", "pending")
    device.refresh_from_db()
    assert device.mode == "charging"
