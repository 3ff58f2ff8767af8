from hems.sdk import DriverAppConfig


class AppliancesConfig(DriverAppConfig):
    name = "hems_appliances"
    label = "appliances"
    verbose_name = "Household appliances"
