"""The solar driver's hooks: it registers the ``solar_panel`` kind."""

from drivers.solar.admin import SolarPanelAdmin
from drivers.solar.models import SolarPanel
from drivers.solar.simulate import simulate
from hems.sdk import DeviceKind, DeviceType, hookimpl

SOLAR_PANEL = DeviceKind(
    key="solar_panel",
    label="Solar panel",
    device_type=DeviceType.PRODUCTION,
    prevalence=0.8,  # share of homes with one (manage.py seed)
    model=SolarPanel,
    fields=("rated_power_w", "area_m2", "tilt_deg", "azimuth_deg", "derate"),
    admin=SolarPanelAdmin,
    simulate=simulate,
    max_power_w="rated_power_w",  # the simulation caps the array at its rating
    example={"rated_power_w": 6_000.0, "tilt_deg": 30.0, "azimuth_deg": 180.0, "derate": 0.86},
    description="A photovoltaic array; it produces from the sun's position and the sky.",
)


@hookimpl
def hems_register_kinds(register):
    register(SOLAR_PANEL)
