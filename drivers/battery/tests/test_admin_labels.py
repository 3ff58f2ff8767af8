"""The admin speaks to operators in units (issue 12): "Capacity (Wh)", "Batteries"."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_admin_names_batteries_and_labels_their_fields_with_units(admin_client):
    index = admin_client.get(reverse("admin:index")).content.decode()
    assert "Batteries" in index and "Batterys" not in index
    form = admin_client.get(reverse("admin:battery_battery_add")).content.decode()
    for label in ("Capacity (Wh)", "Max charge (W)", "Max discharge (W)", "Round-trip efficiency (0.5 to 1)"):
        assert f">{label}:</label>" in form, label
    assert "Capacity wh" not in form


def test_a_huge_capacity_is_refused_in_the_admin_naming_its_bound(admin_client, user):
    data = {"name": "Huge", "owner": user.pk, "status": "online", "capacity_wh": "1.7e308", "level_wh": "0"}
    data |= {"max_charge_w": "5000", "max_discharge_w": "5000", "round_trip_efficiency": "0.9", "mode": "auto"}
    response = admin_client.post(reverse("admin:battery_battery_add"), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "capacity_wh" in errors, errors
