"""The hvac driver's hooks: it registers ``air_conditioner`` and ``heater``."""

from drivers.hvac.admin import HvacAdmin
from drivers.hvac.models import AirConditioner, Heater
from drivers.hvac.simulate import simulate_air_conditioner, simulate_heater
from hems.sdk import DeviceKind, DeviceType, hookimpl

HVAC_FIELDS = ("rated_power_w", "min_modulation_w", "max_modulation_w", "setpoint_c")

AIR_CONDITIONER = DeviceKind(
    key="air_conditioner",
    label="Air conditioner",
    device_type=DeviceType.CONSUMPTION,
    prevalence=0.5,  # share of homes with one (manage.py seed)
    model=AirConditioner,
    fields=HVAC_FIELDS,
    admin=HvacAdmin,
    simulate=simulate_air_conditioner,
    max_power_w="max_modulation_w",
    example={"rated_power_w": 3_500.0, "min_modulation_w": 400.0, "max_modulation_w": 3_200.0, "setpoint_c": 24.0},
    description="An air conditioner: its draw follows the outdoor heat and the time of day.",
)

HEATER = DeviceKind(
    key="heater",
    label="Heater",
    device_type=DeviceType.CONSUMPTION,
    prevalence=0.7,  # share of homes with one (manage.py seed)
    model=Heater,
    fields=HVAC_FIELDS,
    admin=HvacAdmin,
    simulate=simulate_heater,
    max_power_w="max_modulation_w",
    example={"rated_power_w": 2_000.0, "min_modulation_w": 500.0, "max_modulation_w": 2_000.0, "setpoint_c": 20.0},
    description="An electric heater or heat pump: its draw follows the outdoor cold and the time of day.",
)


@hookimpl
def hems_register_kinds(register):
    register(AIR_CONDITIONER)
    register(HEATER)
