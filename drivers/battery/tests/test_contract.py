from hems.testing import DriverContract, Invalid

VALID = {
    "capacity_wh": 13_500.0,
    "level_wh": 6_000.0,
    "max_charge_w": 5_000.0,
    "max_discharge_w": 7_000.0,
    "round_trip_efficiency": 0.9,
    "mode": "auto",
}


class TestBatteryContract(DriverContract):
    driver = "battery"
    valid = {"battery": VALID}
    invalid = {
        "battery": [
            Invalid({"capacity_wh": -1.0}, "capacity_wh"),
            Invalid({"capacity_wh": 0.0}, "capacity_wh"),
            Invalid({"level_wh": 20_000.0}, "level_wh", id="level-above-capacity"),
            Invalid({"level_wh": -5.0}, "level_wh"),
            Invalid({"max_charge_w": -1.0}, "max_charge_w"),
            Invalid({"max_discharge_w": -1.0}, "max_discharge_w"),
            Invalid({"round_trip_efficiency": 1.5}, "round_trip_efficiency"),
            Invalid({"mode": "turbo"}, "mode"),
            Invalid({"max_charge_w": 0.0, "max_discharge_w": 0.0}, "max_charge_w", db=False),
            # The attack: every number at 1.7e308.
            Invalid({"capacity_wh": 1.7e308, "max_charge_w": 1.7e308}, "capacity_wh", id="huge"),
            # 1 kWh at 1 MW is 1000C: no battery.
            Invalid({"capacity_wh": 1_000.0, "level_wh": 0.0, "max_charge_w": 1e6}, "max_charge_w", id="1000C-charge"),
            Invalid({"capacity_wh": 1_000.0, "level_wh": 0.0, "max_discharge_w": 5_001.0}, "max_discharge_w", id="5C"),
        ]
    }
