"""The battery driver's hooks: it registers the ``battery`` kind."""

from drivers.battery.admin import BatteryAdmin
from drivers.battery.models import Battery
from drivers.battery.simulate import simulate
from hems.sdk import DeviceKind, DeviceType, hookimpl

BATTERY = DeviceKind(
    key="battery",
    label="Battery",
    device_type=DeviceType.STORAGE,
    prevalence=0.45,  # share of homes with one (manage.py seed)
    model=Battery,
    fields=("capacity_wh", "level_wh", "max_charge_w", "max_discharge_w", "round_trip_efficiency", "mode"),
    admin=BatteryAdmin,
    simulate=simulate,
    example={
        "capacity_wh": 13_500.0,
        "level_wh": 6_750.0,
        "max_charge_w": 5_000.0,
        "max_discharge_w": 5_000.0,
        "round_trip_efficiency": 0.9,
        "mode": "auto",
    },
    description="A stationary home battery; in AUTO mode it balances the home against the grid.",
)


@hookimpl
def hems_register_kinds(register):
    register(BATTERY)
