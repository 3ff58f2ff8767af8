"""The plugin manager: loads the discovered drivers and holds their device kinds.

This module is the only place that calls ``pm.hook.*``. Everything else asks the
:class:`Registry` returned by :func:`registry`.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass, field
from functools import cache
from types import ModuleType

import pluggy
from django.apps import apps

from hems import discovery, hookspecs
from hems.sdk.kinds import KIND_KEY, DeviceKind
from hems.sdk.types import DeviceType

logger = logging.getLogger("hems.drivers")


class UnknownKind(LookupError):
    """No installed driver provides this kind."""


class InvalidKind(ValueError):
    """A driver registered a kind that breaks the DeviceKind contract."""


@dataclass
class Driver:
    """A driver as hems sees it: what it provides, or why it is not running."""

    name: str
    version: str
    module: str
    status: str  # "loaded", "broken" or "disabled"
    reason: str = ""
    app_label: str = ""
    kinds: list[DeviceKind] = field(default_factory=list)


@dataclass
class Registry:
    """The drivers and kinds of this process."""

    drivers: dict[str, Driver]
    kinds: dict[str, DeviceKind]
    plugin_manager: pluggy.PluginManager

    def kind(self, key: str) -> DeviceKind:
        """The kind registered under ``key``; :class:`UnknownKind` if none is."""
        try:
            return self.kinds[key]
        except KeyError:
            raise UnknownKind(key) from None

    def kind_of_model(self, model: type) -> DeviceKind:
        """The kind whose model is ``model`` (or a proxy of it)."""
        concrete = model._meta.concrete_model
        for kind in self.kinds.values():
            if kind.model is concrete:
                return kind
        raise UnknownKind(model.__name__)

    def driver_of_kind(self, key: str) -> Driver:
        for driver in self.drivers.values():
            if any(kind.key == key for kind in driver.kinds):
                return driver
        raise UnknownKind(key)


def validate_kind(kind: DeviceKind, app_label: str) -> None:
    """Raise :class:`InvalidKind` naming what is wrong with a registered kind."""
    from hems.devices.models import Device, StorageDevice

    if not isinstance(kind, DeviceKind):
        raise InvalidKind(f"registered {kind!r}, which is not a DeviceKind")
    if not KIND_KEY.match(kind.key):
        raise InvalidKind(f"kind key {kind.key!r} is not snake_case")
    if kind.device_type not in DeviceType.values:
        raise InvalidKind(f"kind {kind.key!r}: device_type {kind.device_type!r} is not one of {DeviceType.values}")
    model = kind.model
    if not (isinstance(model, type) and issubclass(model, Device) and model is not Device):
        raise InvalidKind(f"kind {kind.key!r}: model must be a subclass of hems.sdk.Device")
    if model._meta.abstract or model._meta.proxy:
        raise InvalidKind(f"kind {kind.key!r}: model {model.__name__} must be concrete")
    if model._meta.app_label != app_label:
        raise InvalidKind(
            f"kind {kind.key!r}: model {model.__name__} belongs to app {model._meta.app_label!r}, "
            f"not to the driver's app {app_label!r}"
        )
    is_storage = issubclass(model, StorageDevice)
    if (kind.device_type == DeviceType.STORAGE) != is_storage:
        raise InvalidKind(f"kind {kind.key!r}: storage kinds, and only they, use a StorageDevice model")
    if kind.charging_is_consumption and not is_storage:
        raise InvalidKind(f"kind {kind.key!r}: only storage kinds can count their charging as consumption")
    settable = {f.name for f in model._meta.get_fields()} | model._meta._property_names
    unknown = [name for name in kind.fields if name not in settable]
    if unknown:
        raise InvalidKind(f"kind {kind.key!r}: fields {unknown} are not attributes of {model.__name__}")


def _load(driver: Driver, found: discovery.DiscoveredDriver, pm: pluggy.PluginManager) -> None:
    app_config = next((c for c in apps.get_app_configs() if c.name == found.app), None)
    if app_config is None:
        raise RuntimeError(f"its app {found.app!r} is not installed")
    import_error = getattr(app_config, "import_error", None)
    if import_error:
        raise RuntimeError(f"its models failed to import: {import_error}")
    driver.app_label = app_config.label
    module: ModuleType = found.entry_point.load()
    pm.register(module, name=found.name)
    kinds: list[DeviceKind] = []
    for impl in pm.hook.hems_register_kinds.get_hookimpls():
        if impl.plugin_name == found.name:
            impl.function(register=kinds.append)
    if not kinds:
        raise InvalidKind("it registers no device kind")
    for kind in kinds:
        validate_kind(kind, driver.app_label)
    driver.kinds = kinds


def build_registry() -> Registry:
    """Load every discovered driver; a failing one is recorded, not raised."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    drivers: dict[str, Driver] = {}
    kinds: dict[str, DeviceKind] = {}
    for problem in discovery.problems.values():
        drivers[problem.name] = Driver(problem.name, problem.version, problem.module, problem.status, problem.reason)
    for found in discovery.discovered.values():
        driver = Driver(found.name, found.version, found.module, "loaded")
        drivers[found.name] = driver
        try:
            _load(driver, found, pm)
            pm.check_pending()
            clash = [k.key for k in driver.kinds if k.key in kinds]
            if clash:
                raise InvalidKind(f"kinds {clash} are already provided by another driver")
        except Exception as exc:
            driver.status, driver.reason, driver.kinds = "broken", discovery.short_reason(exc), []
            if pm.get_plugin(found.name) is not None:
                pm.unregister(name=found.name)
            logger.error("driver %r failed to load and is skipped:\n%s", found.name, traceback.format_exc())
            continue
        kinds.update((kind.key, kind) for kind in driver.kinds)
    return Registry(drivers=drivers, kinds=kinds, plugin_manager=pm)


@cache
def registry() -> Registry:
    """The process's registry, built on first use (once Django has imported all models)."""
    apps.check_models_ready()
    return build_registry()
