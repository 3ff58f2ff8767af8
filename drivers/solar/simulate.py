"""Solar physics: clear-sky irradiance from the sun's position, attenuated by clouds,
transposed onto the panel's plane, derated for the system and the cell temperature."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hems.sdk import Batch, State

# Power temperature coefficient of crystalline silicon (per degree C above 25).
GAMMA = -0.004


def simulate(batch: Batch) -> State:
    # pvlib imports scipy (about a second): every process that loads the drivers (web,
    # ingest, manage.py) would pay it; only the tick's needs it, and its engine has it.
    from pvlib import clearsky, irradiance, temperature

    if not len(batch):
        return State.empty()
    homes, config = batch.homes, batch.config
    zenith = np.asarray(homes.sun_zenith, dtype=float)
    # Haurwitz clear-sky global horizontal irradiance (zero with the sun down).
    ghi_clear = clearsky.haurwitz(pd.Series(zenith))["ghi"].to_numpy()
    # Kasten & Czeplak (1980): cloud cover attenuates global irradiance.
    ghi = ghi_clear * (1 - 0.75 * np.power(homes.cloud_cover, 3.4))
    split = irradiance.erbs(ghi, zenith, homes.day_of_year)
    poa = irradiance.get_total_irradiance(
        surface_tilt=config["tilt_deg"],
        surface_azimuth=config["azimuth_deg"],
        solar_zenith=zenith,
        solar_azimuth=homes.sun_azimuth,
        dni=np.asarray(split["dni"]),
        ghi=ghi,
        dhi=np.asarray(split["dhi"]),
    )["poa_global"]
    poa = np.nan_to_num(np.asarray(poa, dtype=float)).clip(min=0)
    sapm = temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_glass"]
    cell_c = temperature.sapm_cell(poa, homes.temperature_c, 1.0, **sapm)
    thermal = 1 + GAMMA * (np.asarray(cell_c) - 25.0)
    power = config["rated_power_w"] * poa / 1000.0 * config["derate"] * thermal
    power = np.clip(np.nan_to_num(power), 0.0, config["rated_power_w"])
    return batch.state.copy(power_w=power, flow_w=np.zeros(len(batch)), available=np.ones(len(batch), dtype=bool))
