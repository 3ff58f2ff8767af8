"""The EV driver's hooks: it registers the ``electric_vehicle`` kind."""

from drivers.ev.admin import ElectricVehicleAdmin
from drivers.ev.models import ElectricVehicle
from drivers.ev.simulate import simulate
from hems.sdk import DeviceKind, DeviceType, hookimpl

ELECTRIC_VEHICLE = DeviceKind(
    key="electric_vehicle",
    label="Electric vehicle",
    device_type=DeviceType.STORAGE,
    prevalence=0.3,  # share of homes with one (manage.py seed)
    model=ElectricVehicle,
    fields=(
        "capacity_wh",
        "level_wh",
        "max_charge_w",
        "max_discharge_w",
        "mode",
        "leaves_at",
        "returns_at",
        "away_days",
        "drain_wh_per_hour",
    ),
    admin=ElectricVehicleAdmin,
    simulate=simulate,
    charging_is_consumption=True,
    example={
        "capacity_wh": 75_000.0,
        "level_wh": 40_000.0,
        "max_charge_w": 11_000.0,
        "max_discharge_w": 7_400.0,
        "mode": "charging",
    },
    description="An electric vehicle: charging at home is consumption, discharging to the home (V2H) is storage.",
)


@hookimpl
def hems_register_kinds(register):
    register(ELECTRIC_VEHICLE)
