from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models, transaction
from django.db.models.signals import class_prepared

from hems.sdk.bounds import add_bound_constraints, out_of_bounds
from hems.sdk.types import DeviceType, Source, Status


def parent_accessor(model: type[Device]) -> str:
    """The name under which a Device row reaches its kind's row (``device.poolpump``)."""
    return model._meta.parents[Device].remote_field.get_accessor_name()


class DeviceQuerySet(models.QuerySet):
    def with_kinds(self) -> DeviceQuerySet:
        """Join the live state and every installed kind's table: one SQL query
        returns the devices with their kind-specific fields, whatever the number of
        kinds or devices. Use ``device.specific`` on the results."""
        from hems.plugins import registry

        accessors = [parent_accessor(kind.model) for kind in registry().kinds.values()]
        return self.select_related("state", *accessors)

    def owned_by(self, user) -> DeviceQuerySet:
        return self.filter(owner=user)


class Device(models.Model):
    """What every device has, whatever its kind.

    A driver's model derives from this one (multi-table inheritance): the base row
    holds the common fields, the driver's table its own. ``kind`` and
    ``device_type`` are filled in from the registered kind of the model; live state
    (power, level, ...) is in :class:`~hems.devices.models.DeviceState`.
    """

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=64, blank=True, db_index=True)
    device_type = models.CharField(max_length=16, choices=DeviceType.choices, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ONLINE)
    # Simulated by the tick, or reporting its own state (hems.live); see DESIGN.md.
    source = models.CharField(
        max_length=9, choices=Source.choices, default=Source.SIMULATED, db_default=Source.SIMULATED
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="devices")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DeviceQuerySet.as_manager()

    class Meta:
        db_table = "hems_device"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="hems_device_owner_created"),
            # Lets the tick check a shard's configuration version from the index alone.
            models.Index(fields=["owner"], include=["updated_at", "id"], name="hems_device_owner_version"),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(name=""), name="hems_device_name_not_empty"),
            models.CheckConstraint(condition=models.Q(status__in=Status.values), name="hems_device_status_valid"),
            models.CheckConstraint(condition=models.Q(source__in=Source.values), name="hems_device_source_valid"),
            models.CheckConstraint(
                condition=models.Q(device_type__in=DeviceType.values), name="hems_device_device_type_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"

    # -- kind ----------------------------------------------------------------

    def _fill_kind(self) -> None:
        """A driver model knows its kind: fill ``kind`` and ``device_type`` from it."""
        if type(self) is Device:
            return
        from hems.plugins import registry

        kind = registry().kind_of_model(type(self))
        self.kind, self.device_type = kind.key, DeviceType(kind.device_type).value

    @property
    def specific(self) -> Device:
        """This device as an instance of its kind's model (with its own fields).

        Free after ``Device.objects.with_kinds()``; one query otherwise. A device
        whose driver is not installed stays a plain ``Device``.
        """
        if type(self) is not Device:
            return self
        from hems.plugins import UnknownKind, registry

        try:
            model = registry().kind(self.kind).model
        except UnknownKind:
            return self
        try:
            child = getattr(self, parent_accessor(model))
        except ObjectDoesNotExist:
            return self
        # Hand over what with_kinds() already loaded (live state, owner).
        for name in ("state", "owner"):
            if name in self._state.fields_cache:
                child._state.fields_cache.setdefault(name, self._state.fields_cache[name])
        return child

    # -- validation ----------------------------------------------------------

    def clean(self) -> None:
        super().clean()
        self.name = (self.name or "").strip()
        if not self.name:
            raise ValidationError({"name": "A device needs a name."})
        self._fill_kind()
        from hems.plugins import UnknownKind, registry

        try:
            kind = registry().kind(self.kind)
        except UnknownKind:
            message = f"Unknown device kind {self.kind!r}: no installed driver provides it."
            raise ValidationError({"kind": message}) from None
        if self.device_type != kind.device_type:
            raise ValidationError(
                {"device_type": f"A {kind.key} is a {kind.device_type} device, not {self.device_type or 'empty'}."}
            )

    def clean_fields(self, exclude=None) -> None:
        # Every number of a kind is finite and within the core's ceiling, whether or
        # not its driver declared a bound (hems.sdk.bounds).
        errors: dict = {}
        try:
            super().clean_fields(exclude)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        for name, message in out_of_bounds(self).items():
            if name not in errors and name not in (exclude or ()):
                errors[name] = [message]
        if errors:
            raise ValidationError(errors)

    def full_clean(self, exclude=None, validate_unique=True, validate_constraints=False) -> None:
        # Check constraints repeat, in the database, what field validators and
        # clean() already say with a field-named message; validating them here
        # too would only report each error twice.
        super().full_clean(exclude, validate_unique, validate_constraints)

    # -- saving --------------------------------------------------------------

    def initial_state(self) -> dict[str, Any]:
        """The live state a new device starts with (see DeviceState)."""
        return {}

    def sync_state(self) -> None:
        """Carry configuration the state table mirrors into it (storage capacity)."""

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded_source = instance.__dict__.get("source")
        return instance

    def save(self, *args, **kwargs) -> None:
        self._fill_kind()
        creating = self._state.adding
        with transaction.atomic(using=kwargs.get("using")):
            super().save(*args, **kwargs)
            from hems.devices.models.state import DeviceState

            if creating:
                DeviceState.objects.create(device_id=self.pk, owner_id=self.owner_id, **self.initial_state())
            else:
                self.sync_state()
                if getattr(self, "_loaded_source", None) not in (None, self.source):
                    # A switch of source starts afresh: a live device is unavailable until
                    # its first report, and no energy counted under the other source carries over.
                    DeviceState.objects.filter(pk=self.pk).update(
                        reported_at=None, pending_energy_wh=0.0, pending_charge_wh=0.0, pending_discharge_wh=0.0
                    )
                    from hems.live import broker  # its login works only while it is live

                    transaction.on_commit(broker.sync)
            self._loaded_source = self.source


def hold_kind_fields_to_their_bounds(sender, **kwargs) -> None:
    """Give every kind's model a check constraint per numeric field (hems.sdk.bounds)."""
    if issubclass(sender, Device) and sender is not Device and not (sender._meta.abstract or sender._meta.proxy):
        add_bound_constraints(sender)


class_prepared.connect(hold_kind_fields_to_their_bounds, dispatch_uid="hems.devices.bound_constraints")
