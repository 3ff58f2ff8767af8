from hems.testing import DriverContract, Invalid

AC = {"rated_power_w": 3_500.0, "min_modulation_w": 400.0, "max_modulation_w": 3_200.0, "setpoint_c": 24.0}
HEATER = {"rated_power_w": 2_000.0, "min_modulation_w": 500.0, "max_modulation_w": 2_000.0, "setpoint_c": 20.0}


def shared_cases():
    return [
        Invalid({"rated_power_w": -1.0}, "rated_power_w"),
        Invalid({"min_modulation_w": -1.0}, "min_modulation_w"),
        Invalid({"max_modulation_w": 9_000.0}, "max_modulation_w", id="max-above-rated"),
        Invalid({"min_modulation_w": 1_900.0, "max_modulation_w": 1_000.0}, "min_modulation_w", id="min-above-max"),
        Invalid({"rated_power_w": 1e6}, "rated_power_w", id="above-100-kW"),
    ]


class TestHvacContract(DriverContract):
    driver = "hvac"
    valid = {"air_conditioner": AC, "heater": HEATER}
    invalid = {
        "air_conditioner": [*shared_cases(), Invalid({"setpoint_c": 10.0}, "setpoint_c")],
        "heater": [*shared_cases(), Invalid({"setpoint_c": 40.0}, "setpoint_c")],
    }
