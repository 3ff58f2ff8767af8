from hems.sdk import DriverAppConfig


class BatteryConfig(DriverAppConfig):
    name = "drivers.battery"
    label = "battery"
    verbose_name = "Batteries"
