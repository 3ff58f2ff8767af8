"""The appliances driver's hooks: it registers ``dishwasher``, ``washing_machine`` and
``refrigerator``, three consumption kinds."""

from hems.sdk import DeviceKind, DeviceType, hookimpl
from hems_appliances.admin import ApplianceAdmin
from hems_appliances.models import Dishwasher, Refrigerator, WashingMachine
from hems_appliances.simulate import (
    max_dishwasher_w,
    max_refrigerator_w,
    max_washing_machine_w,
    simulate_dishwasher,
    simulate_refrigerator,
    simulate_washing_machine,
)
from hems_appliances.telemetry import TASMOTA, TASMOTA_FRIDGE

DISHWASHER = DeviceKind(
    key="dishwasher",
    label="Dishwasher",
    device_type=DeviceType.CONSUMPTION,
    prevalence=0.7,  # share of homes with one (manage.py seed)
    model=Dishwasher,
    fields=("cycle", "heater_power_w", "start_time", "cycles_per_week"),
    admin=ApplianceAdmin,
    simulate=simulate_dishwasher,
    max_power_w=max_dishwasher_w,
    codecs=(TASMOTA,),  # on a Tasmota smart plug (hems_appliances.telemetry)
    example={"cycle": "normal", "heater_power_w": 1_800.0, "cycles_per_week": 5.0},
    description="A dishwasher: heated wash and final rinse around its heater's power, on a schedule or by habit.",
)

WASHING_MACHINE = DeviceKind(
    key="washing_machine",
    label="Washing machine",
    device_type=DeviceType.CONSUMPTION,
    prevalence=0.9,  # share of homes with one (manage.py seed)
    model=WashingMachine,
    fields=("wash_program", "heater_power_w", "spin_rpm", "start_time", "cycles_per_week"),
    admin=ApplianceAdmin,
    simulate=simulate_washing_machine,
    max_power_w=max_washing_machine_w,
    codecs=(TASMOTA,),  # on a Tasmota smart plug (hems_appliances.telemetry)
    example={"wash_program": "cotton_40", "heater_power_w": 2_000.0, "spin_rpm": 1_400, "cycles_per_week": 4.0},
    description="A washing machine: it heats the water, washes, rinses and spins, on a schedule or by habit.",
)

REFRIGERATOR = DeviceKind(
    key="refrigerator",
    label="Refrigerator",
    device_type=DeviceType.CONSUMPTION,
    prevalence=1.0,  # share of homes with one (manage.py seed)
    model=Refrigerator,
    fields=("compressor_power_w", "annual_energy_kwh", "setpoint_c", "defrost_heater_w"),
    admin=ApplianceAdmin,
    simulate=simulate_refrigerator,
    max_power_w=max_refrigerator_w,
    codecs=(TASMOTA_FRIDGE,),  # on a Tasmota smart plug (hems_appliances.telemetry)
    example={"compressor_power_w": 90.0, "annual_energy_kwh": 150.0, "setpoint_c": 5.0, "defrost_heater_w": 200.0},
    description="A refrigerator: its compressor cycles with the room's warmth and the door; it defrosts twice a day.",
)


@hookimpl
def hems_register_kinds(register):
    register(DISHWASHER)
    register(WASHING_MACHINE)
    register(REFRIGERATOR)
