from hems.devices.models.device import Device, DeviceQuerySet
from hems.devices.models.home import Home
from hems.devices.models.kind import KindRecord
from hems.devices.models.live import CommandState, DeviceCommand, DeviceCredentials
from hems.devices.models.state import DeviceState
from hems.devices.models.storage import StorageDevice

__all__ = [
    "CommandState",
    "Device",
    "DeviceCommand",
    "DeviceCredentials",
    "DeviceQuerySet",
    "DeviceState",
    "Home",
    "KindRecord",
    "StorageDevice",
]
