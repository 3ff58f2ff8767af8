"""The generator driver's hooks: it registers the ``generator`` kind."""

from drivers.generator.admin import GeneratorAdmin
from drivers.generator.models import Generator
from drivers.generator.simulate import max_power_w, simulate
from hems.sdk import DeviceKind, DeviceType, hookimpl

GENERATOR = DeviceKind(
    key="generator",
    label="Generator",
    device_type=DeviceType.PRODUCTION,
    prevalence=0.05,  # share of homes with one (manage.py seed)
    model=Generator,
    fields=("rated_output_w",),
    admin=GeneratorAdmin,
    simulate=simulate,
    max_power_w=max_power_w,
    example={"rated_output_w": 3_000.0},
    description="A generator that runs near its rated output while online.",
)


@hookimpl
def hems_register_kinds(register):
    register(GENERATOR)
