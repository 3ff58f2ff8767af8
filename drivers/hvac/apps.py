from hems.sdk import DriverAppConfig


class HvacConfig(DriverAppConfig):
    name = "drivers.hvac"
    label = "hvac"
    verbose_name = "Heating and cooling"
