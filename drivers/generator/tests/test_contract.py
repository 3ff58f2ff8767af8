from hems.testing import DriverContract, Invalid


class TestGeneratorContract(DriverContract):
    driver = "generator"
    valid = {"generator": {"rated_output_w": 3_000.0}}
    invalid = {
        "generator": [
            Invalid({"rated_output_w": -3_000.0}, "rated_output_w"),
            Invalid({"rated_output_w": 0.0}, "rated_output_w"),
            Invalid({"rated_output_w": 1.7e308}, "rated_output_w", id="huge"),
        ]
    }
