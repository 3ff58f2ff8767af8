"""The admin base for device kinds; drivers subclass :class:`KindAdmin`."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from hems.devices.liveness import device_reason
from hems.sdk.types import Status


def live_power(device) -> float:
    """What the device draws or gives now: 0 unless it acts now (``hems.devices.liveness``)."""
    state = getattr(device, "state", None)
    if state is None or device_reason(device) is not None:
        return 0.0
    return state.power_w


MINUS = "\u2212"  # the typographic minus, as in "−800 W discharging"


def power_text(device) -> str:
    """The power now for people, rounded to the watt: "1,200 W", and for storage with
    the direction of its flow: "+1,200 W charging", "−800 W discharging"."""
    power = round(live_power(device))
    state = getattr(device, "state", None)
    flow = state.flow_w if state is not None and state.level_wh is not None else 0.0
    if power and flow > 0:
        return f"+{power:,} W charging"
    if power and flow < 0:
        return f"{MINUS}{power:,} W discharging"
    return f"{power:,} W"


def flow_text(state) -> str | None:
    """A storage flow, signed and rounded: "+1,200 W" into storage, "−800 W" out of it."""
    if state is None or state.level_wh is None:
        return None
    flow = round(state.flow_w)
    return f"+{flow:,} W" if flow > 0 else f"{MINUS}{-flow:,} W" if flow < 0 else "0 W"


def level_text(state) -> str | None:
    """A storage level rounded to the watt-hour, with its share of the capacity."""
    if state is None or state.level_wh is None:
        return None
    share = f" ({state.level_wh / state.capacity_wh:.0%})" if state.capacity_wh else ""
    return f"{round(state.level_wh):,} Wh{share}"


class DeviceActions:
    """Admin actions shared by the all-devices list and every kind's page."""

    actions = ["set_online", "set_offline", "rotate_credentials"]

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

    @admin.action(description="Rotate MQTT credentials of selected live devices", permissions=["change"])
    def rotate_credentials(self, request, queryset):
        """New broker credentials, each password shown once here (hems keeps a hash)."""
        from hems.live import credentials

        with transaction.atomic():
            for device in queryset.select_for_update(of=("self",)).order_by("pk"):
                try:
                    issued = credentials.rotate(device)
                except credentials.NotLive:
                    self.message_user(request, f"{device.name}: not a live device, no credentials.", messages.WARNING)
                    continue
                self.message_user(
                    request,
                    f"{device.name}: username {issued.username}, password {issued.password} (shown once), "
                    f"broker {issued.host}:{issued.port}, state topic {issued.state_topic}.",
                    messages.SUCCESS,
                )


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
        "last_report",
        "status_reason",
    )
    autocomplete_fields = ("owner",)

    def get_list_display(self, request):
        own = [name for name in self.kind.fields if name != "level_wh"][:4]
        return ("name", "owner", "status", "source", *own, "power_w", "updated_at")

    def get_fieldsets(self, request, obj=None):
        own = [name for name in self.kind.fields if name != "level_wh"]
        if "level_wh" in self.kind.fields and obj is None:
            own.append("level_wh")
        live = ("status_reason", "power_w", "flow_w", "current_level_wh", "available", "last_report", "simulated_at")
        live += ("created_at", "updated_at")
        return [
            (None, {"fields": ("name", "owner", "status", "source")}),
            (self.kind.label, {"fields": own}),
            ("Live state", {"fields": live if obj is not None else ()}),
        ]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change:
            from hems.live import commands

            commands.send(obj, form.changed_data)  # a live device is told (hems.live.commands)

    @admin.display(description="Last report")
    def last_report(self, obj):
        state = getattr(obj, "state", None)
        return None if state is None else state.reported_at

    @admin.display(description="Offline because")
    def status_reason(self, obj):
        return device_reason(obj) or "-"

    def get_form(self, request, obj=None, **kwargs):
        if "level_wh" in self.kind.fields and obj is None:
            kwargs.setdefault("form", StorageLevelForm)
        return super().get_form(request, obj, **kwargs)

    @admin.display(description="Power", ordering="state__power_w")
    def power_w(self, obj):
        return power_text(obj)

    @admin.display(description="Storage flow")
    def flow_w(self, obj):
        return flow_text(getattr(obj, "state", None))

    @admin.display(description="Level")
    def current_level_wh(self, obj):
        return level_text(getattr(obj, "state", None))

    @admin.display(description="Available", boolean=True)
    def available(self, obj):
        state = getattr(obj, "state", None)
        return None if state is None else state.available

    @admin.display(description="Last simulated")
    def simulated_at(self, obj):
        from hems.simulation import ticked

        return ticked.last_simulated_of(getattr(obj, "state", None))
