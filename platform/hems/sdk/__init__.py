"""The public driver API of hems: everything a driver may import from the core.

A driver imports from ``hems.sdk`` (and, in its tests, ``hems.testing``) and from
nothing else in ``hems``. The surface is versioned by :data:`API_VERSION`: a minor
bump adds, a major bump changes or removes.

Names that need Django's models (``Device``, ``StorageDevice``, ``KindAdmin``) load
on first use, so a driver's ``apps.py`` can import this package while Django starts.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from hems.hookspecs import Simulate, hookimpl
from hems.sdk.apps import DriverAppConfig
from hems.sdk.bounds import CEILING, upper_bound, upper_bounds
from hems.sdk.kinds import DeviceKind
from hems.sdk.live import Codec, JsonCodec, RefusedPayload, Report
from hems.sdk.simulation import Batch, Homes, State, smooth_noise, uniform
from hems.sdk.storage import integrate_flow
from hems.sdk.types import DeviceType, Status, StorageMode

API_VERSION = "1.7"

_LAZY = {
    "Device": "hems.devices.models",
    "StorageDevice": "hems.devices.models",
    "KindAdmin": "hems.devices.kind_admin",
}

__all__ = [
    "API_VERSION",
    "CEILING",
    "Batch",
    "Codec",
    "JsonCodec",
    "RefusedPayload",
    "Report",
    "Homes",
    "State",
    "integrate_flow",
    "smooth_noise",
    "uniform",
    "upper_bound",
    "upper_bounds",
    "Device",
    "DeviceKind",
    "DeviceType",
    "DriverAppConfig",
    "KindAdmin",
    "Simulate",
    "Status",
    "StorageDevice",
    "StorageMode",
    "hookimpl",
]

if TYPE_CHECKING:
    from hems.devices.kind_admin import KindAdmin
    from hems.devices.models import Device, StorageDevice


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'hems.sdk' has no attribute {name!r}")
