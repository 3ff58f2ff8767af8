from hems.sdk import DriverAppConfig


class EvConfig(DriverAppConfig):
    name = "drivers.ev"
    label = "ev"
    verbose_name = "Electric vehicles"
