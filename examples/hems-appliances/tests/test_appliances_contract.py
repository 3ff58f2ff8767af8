"""The appliances driver runs hems's driver contract, like every built-in driver."""

from datetime import time

import pytest

from hems.testing import DriverContract, Invalid

# These tests need the package installed (pip install -e ./examples/hems-appliances).
pytest.importorskip("hems_appliances", reason="hems-appliances is not installed")

DISHWASHER = {"cycle": "eco", "heater_power_w": 2_100.0, "start_time": time(13, 0), "cycles_per_week": 4.0}
WASHING_MACHINE = {"wash_program": "cotton_60", "heater_power_w": 2_200.0, "spin_rpm": 1_200, "cycles_per_week": 3.5}
REFRIGERATOR = {"compressor_power_w": 110.0, "annual_energy_kwh": 200.0, "setpoint_c": 4.0, "defrost_heater_w": 250.0}


class TestAppliancesContract(DriverContract):
    driver = "appliances"

    valid = {"dishwasher": DISHWASHER, "washing_machine": WASHING_MACHINE, "refrigerator": REFRIGERATOR}
    invalid = {
        "dishwasher": [
            Invalid({"heater_power_w": 500.0}, "heater_power_w", id="heater-too-weak"),
            Invalid({"heater_power_w": 9_000.0}, "heater_power_w", id="heater-too-strong"),
            Invalid({"cycles_per_week": 8.0}, "cycles_per_week"),
            Invalid({"cycles_per_week": -1.0}, "cycles_per_week"),
            Invalid({"cycle": "pots_and_pans"}, "cycle"),
        ],
        "washing_machine": [
            Invalid({"spin_rpm": 3_000}, "spin_rpm"),
            Invalid({"spin_rpm": 100}, "spin_rpm"),
            Invalid({"heater_power_w": 0.0}, "heater_power_w"),
            Invalid({"cycles_per_week": 10.0}, "cycles_per_week"),
            Invalid({"wash_program": "boil_wash"}, "wash_program"),
        ],
        "refrigerator": [
            Invalid({"compressor_power_w": 15.0, "annual_energy_kwh": 100.0}, "compressor_power_w"),
            Invalid({"setpoint_c": 12.0}, "setpoint_c"),
            Invalid({"defrost_heater_w": -10.0}, "defrost_heater_w"),
            # More than the compressor could use running all year: the database knows too.
            Invalid(
                {"compressor_power_w": 50.0, "annual_energy_kwh": 500.0}, "annual_energy_kwh", id="above-always-on"
            ),
            # A duty cycle no real fridge has: only the model can say (it needs the physics).
            Invalid({"annual_energy_kwh": 25.0}, "annual_energy_kwh", db=False, id="implausibly-low-duty"),
        ],
    }
