import datetime

from hems.testing import DriverContract, Invalid

VALID = {
    "capacity_wh": 75_000.0,
    "level_wh": 40_000.0,
    "max_charge_w": 11_000.0,
    "max_discharge_w": 7_400.0,
    "mode": "charging",
    "leaves_at": datetime.time(7, 30),
    "returns_at": datetime.time(18, 0),
    "away_days": "mon,tue,wed,thu,fri",
    "drain_wh_per_hour": 3_000.0,
}


class TestElectricVehicleContract(DriverContract):
    driver = "ev"
    valid = {"electric_vehicle": VALID}
    invalid = {
        "electric_vehicle": [
            Invalid({"capacity_wh": -1.0}, "capacity_wh"),
            Invalid({"level_wh": 80_000.0}, "level_wh", id="level-above-capacity"),
            Invalid({"max_discharge_w": -7.0}, "max_discharge_w"),
            Invalid({"mode": "auto"}, "mode", id="no-auto-for-a-car"),
            Invalid({"drain_wh_per_hour": -1.0}, "drain_wh_per_hour"),
            Invalid({"drain_wh_per_hour": 80_000.0}, "drain_wh_per_hour", id="drains-more-than-the-pack-an-hour"),
            Invalid({"max_charge_w": 400_000.0}, "max_charge_w", id="above-5C"),
            Invalid({"capacity_wh": 2e7}, "capacity_wh", id="above-10-MWh"),
            Invalid({"away_days": "mon,funday"}, "away_days", db=False),
            Invalid({"returns_at": datetime.time(7, 30)}, "returns_at", db=False, id="returns-when-it-leaves"),
        ]
    }
