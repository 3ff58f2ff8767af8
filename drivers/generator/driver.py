"""The generator driver's hooks: it registers the ``generator`` kind."""

from drivers.generator.admin import GeneratorAdmin
from drivers.generator.models import Generator
from drivers.generator.simulate import simulate
from hems.sdk import DeviceKind, DeviceType, hookimpl

GENERATOR = DeviceKind(
    key="generator",
    label="Generator",
    device_type=DeviceType.PRODUCTION,
    model=Generator,
    fields=("rated_output_w",),
    admin=GeneratorAdmin,
    simulate=simulate,
    example={"rated_output_w": 3_000.0},
    description="A generator that runs near its rated output while online.",
)


@hookimpl
def hems_register_kinds(register):
    register(GENERATOR)
