from hems.testing import DriverContract, Invalid


class TestSolarContract(DriverContract):
    driver = "solar"
    valid = {
        "solar_panel": {
            "rated_power_w": 6_000.0,
            "area_m2": 32.0,
            "tilt_deg": 35.0,
            "azimuth_deg": 180.0,
            "derate": 0.86,
        }
    }
    invalid = {
        "solar_panel": [
            Invalid({"rated_power_w": -100.0}, "rated_power_w"),
            Invalid({"rated_power_w": 0.0}, "rated_power_w"),
            Invalid({"tilt_deg": 95.0}, "tilt_deg"),
            Invalid({"azimuth_deg": -1.0}, "azimuth_deg"),
            Invalid({"derate": 1.2}, "derate"),
            Invalid({"area_m2": -3.0}, "area_m2"),
            Invalid({"rated_power_w": 20_000.0, "area_m2": 10.0}, "rated_power_w", id="denser-than-any-panel"),
            Invalid({"rated_power_w": 6_000.0, "area_m2": 1_000.0}, "area_m2", id="sparser-than-any-panel"),
            Invalid({"area_m2": 1.7e308}, "area_m2", id="huge-area"),
        ]
    }
