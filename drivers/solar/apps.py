from hems.sdk import DriverAppConfig


class SolarConfig(DriverAppConfig):
    name = "drivers.solar"
    label = "solar"
    verbose_name = "Solar panels"
