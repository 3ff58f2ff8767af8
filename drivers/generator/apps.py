from hems.sdk import DriverAppConfig


class GeneratorConfig(DriverAppConfig):
    name = "drivers.generator"
    label = "generator"
    verbose_name = "Generators"
