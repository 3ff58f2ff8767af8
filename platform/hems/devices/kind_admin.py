"""The admin base for device kinds; drivers subclass :class:`KindAdmin`."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.utils import timezone

from hems.devices.liveness import is_live
from hems.sdk.types import Status


def live_power(device) -> float:
    """What the device draws or gives now: 0 unless it acts now (``is_live``)."""
    state = getattr(device, "state", None)
    if state is None or not is_live(device.kind, device.status, state.available):
        return 0.0
    return state.power_w


class DeviceActions:
    """Admin actions shared by the all-devices list and every kind's page."""

    actions = ["set_online", "set_offline"]

    def _set_status(self, request, queryset: QuerySet, status: str) -> None:
        # One UPDATE for the whole selection; live state is the tick's to write.
        from hems.devices.signals import configuration_changed

        owners = set(queryset.values_list("owner_id", flat=True))
        count = queryset.model.objects.filter(pk__in=queryset.values("pk")).update(
            status=status, updated_at=timezone.now()
        )
        for owner_id in owners:
            configuration_changed(owner_id)
        self.message_user(request, f"{count} device(s) set {status}.", messages.SUCCESS)

    @admin.action(description="Set selected devices online", permissions=["change"])
    def set_online(self, request, queryset):
        self._set_status(request, queryset, Status.ONLINE)

    @admin.action(description="Set selected devices offline", permissions=["change"])
    def set_offline(self, request, queryset):
        self._set_status(request, queryset, Status.OFFLINE)


class StorageLevelForm(forms.ModelForm):
    """Adds the initial level to a new storage device's form."""

    level_wh = forms.FloatField(required=False, min_value=0, label="Initial level (Wh)", initial=0)

    def _post_clean(self):
        # Before the model's full_clean, so its level check sees the value.
        if "level_wh" in self.cleaned_data and self.instance._state.adding:
            self.instance.level_wh = self.cleaned_data["level_wh"] or 0.0
        super()._post_clean()


class KindAdmin(DeviceActions, admin.ModelAdmin):
    """The admin page of one device kind.

    The core registers it for the kind's model with ``kind`` set; by default it
    shows the common fields, the kind's own ``fields`` and the live state, read-only.
    Subclass it to add list columns, filters or fieldsets.
    """

    kind = None  # the DeviceKind, set by the core when it registers the page
    list_select_related = ("owner", "state")
    search_fields = ("name", "owner__username", "owner__email")
    list_filter = ("status", "owner")
    readonly_fields = (
        "created_at",
        "updated_at",
        "power_w",
        "flow_w",
        "current_level_wh",
        "available",
        "simulated_at",
    )
    autocomplete_fields = ("owner",)

    def get_list_display(self, request):
        own = [name for name in self.kind.fields if name != "level_wh"][:4]
        return ("name", "owner", "status", *own, "power_w", "updated_at")

    def get_fieldsets(self, request, obj=None):
        own = [name for name in self.kind.fields if name != "level_wh"]
        if "level_wh" in self.kind.fields and obj is None:
            own.append("level_wh")
        live = ("power_w", "flow_w", "current_level_wh", "available", "simulated_at", "created_at", "updated_at")
        return [
            (None, {"fields": ("name", "owner", "status")}),
            (self.kind.label, {"fields": own}),
            ("Live state", {"fields": live if obj is not None else ()}),
        ]

    def get_form(self, request, obj=None, **kwargs):
        if "level_wh" in self.kind.fields and obj is None:
            kwargs.setdefault("form", StorageLevelForm)
        return super().get_form(request, obj, **kwargs)

    @admin.display(description="Power (W)")
    def power_w(self, obj):
        return round(live_power(obj), 1)

    @admin.display(description="Storage flow (W)")
    def flow_w(self, obj):
        state = getattr(obj, "state", None)
        return None if state is None or state.level_wh is None else round(state.flow_w, 1)

    @admin.display(description="Level (Wh)")
    def current_level_wh(self, obj):
        state = getattr(obj, "state", None)
        return None if state is None else state.level_wh

    @admin.display(description="Available", boolean=True)
    def available(self, obj):
        state = getattr(obj, "state", None)
        return None if state is None else state.available

    @admin.display(description="Last simulated")
    def simulated_at(self, obj):
        state = getattr(obj, "state", None)
        return None if state is None else state.simulated_at
