"""Admin: every user with their home and devices, one list across all kinds, and a
page per kind built from what each driver registers."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpResponseRedirect
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from hems.devices.kind_admin import DeviceActions, KindAdmin, level_text, power_text
from hems.devices.liveness import device_reason
from hems.devices.models import Device, Home, KindRecord
from hems.plugins import UnknownKind, registry


def kind_change_url(device: Device) -> str | None:
    """The admin page of the device on its kind's own admin, if its driver is here."""
    try:
        model = registry().kind(device.kind).model
        return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[device.pk])
    except (UnknownKind, NoReverseMatch):
        return None


def device_link(device: Device) -> str:
    url = kind_change_url(device)
    return format_html('<a href="{}">{}</a>', url, device.name) if url else f"{device.name} (driver missing)"


class KindFilter(admin.SimpleListFilter):
    title = "kind"
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return [(r.key, r.label if r.installed else f"{r.label} (driver missing)") for r in KindRecord.objects.all()]

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(Device)
class DeviceAdmin(DeviceActions, admin.ModelAdmin):
    """All devices of every kind; each links to its kind's own page."""

    list_display = ("link", "kind", "device_type", "owner", "status", "source", "status_reason", "power", "level")
    list_display += ("updated_at",)
    list_filter = (KindFilter, "device_type", "status", "source", "owner")
    search_fields = ("name", "owner__username", "owner__email")
    list_select_related = ("owner", "state")
    readonly_fields = ("kind", "device_type", "owner", "status_reason", "last_report", "created_at", "updated_at")
    fields = ("name", "status", "source", "status_reason", "last_report", "kind", "device_type", "owner")
    fields += ("created_at", "updated_at")

    def has_add_permission(self, request):
        return False  # a device is created as a kind, on that kind's page

    @admin.display(description="name", ordering="name")
    def link(self, obj):
        return device_link(obj)

    @admin.display(description="power", ordering="state__power_w")
    def power(self, obj):
        return power_text(obj)

    @admin.display(description="level", ordering="state__level_wh")
    def level(self, obj):
        return level_text(getattr(obj, "state", None))

    @admin.display(description="offline because")
    def status_reason(self, obj):
        return device_reason(obj) or "-"

    @admin.display(description="last report", ordering="state__reported_at")
    def last_report(self, obj):
        state = getattr(obj, "state", None)
        return None if state is None else state.reported_at

    def change_view(self, request, object_id, form_url="", extra_context=None):
        device = self.get_object(request, object_id)
        url = kind_change_url(device) if device is not None else None
        if url:
            return HttpResponseRedirect(url)
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(KindRecord)
class KindRecordAdmin(admin.ModelAdmin):
    list_display = ("key", "label", "device_type", "driver", "installed")
    list_filter = ("device_type", "installed")

    def has_add_permission(self, request):
        return False  # written from the installed drivers

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class HomeInline(admin.StackedInline):
    model = Home
    can_delete = False


class DeviceInline(admin.TabularInline):
    model = Device
    fields = ("link", "kind", "device_type", "status", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="name")
    def link(self, obj):
        return device_link(obj)


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = (HomeInline, DeviceInline)
    change_form_template = "dashboard/admin_user_change_form.html"  # the dashboard's day chart

    def change_view(self, request, object_id, form_url="", extra_context=None):
        from hems.dashboard.admin_chart import chart_context

        user = self.get_object(request, object_id)
        if user is not None:
            extra_context = {**(extra_context or {}), **chart_context(user)}
        return super().change_view(request, object_id, form_url, extra_context)


def register_kinds(site: admin.AdminSite = admin.site) -> None:
    """Give every installed kind its admin page, the driver's or the default one."""
    for kind in registry().kinds.values():
        if site.is_registered(kind.model):
            continue
        base = kind.admin or KindAdmin
        site.register(kind.model, type(f"{kind.type_name}Admin", (base,), {"kind": kind}))


register_kinds()
