"""Air conditioner and heater physics.

The thermal need follows the gap between the outdoor temperature and the setpoint,
weighted by how the home is used at that hour; the unit meets it by cycling on and
off over a 30-minute period (duty cycle = need), and while on it modulates between
its minimum and maximum power with the size of the gap.
"""

from __future__ import annotations

import numpy as np

from hems.sdk import Batch, State

CYCLE_MIN = 30.0

# How much of the thermal need the household asks for at each local hour.
AC_USE = np.array(
    [0.5] * 6 + [0.4, 0.5, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.9, 0.8, 0.7, 0.6]
)
HEAT_USE = np.array(
    [0.6] * 5 + [0.8, 1.0, 1.0, 0.9, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.8, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 0.8, 0.7]
)


def run(batch: Batch, need: np.ndarray, use: np.ndarray, salt: int) -> State:
    c, homes = batch.config, batch.homes
    hour = np.floor(homes.local_hour).astype(int) % 24
    duty = np.clip(need * use[hour], 0.0, 1.0)
    phase = batch.uniform(salt=salt, minute=0)  # each unit starts its cycle at its own offset
    level = np.clip(need, 0.0, 1.0)
    modulated = c["min_modulation_w"] + (c["max_modulation_w"] - c["min_modulation_w"]) * level
    # The mean over the span's minutes, each on or off in its cycle with its own wobble:
    # after missed ticks the unit was not on (or off) for the whole gap.
    minutes = np.maximum(np.rint(np.nan_to_num(batch.elapsed_h) * 60.0), 1.0)
    energy = np.zeros(len(batch))
    for back in range(int(minutes.max())):
        minute = batch.minute - back
        on = (((minute / CYCLE_MIN) + phase) % 1.0 < duty) & (back < minutes)
        wobble = 1 + 0.03 * (2 * batch.uniform(salt=salt + 1, minute=minute) - 1)
        energy += np.where(on, np.clip(modulated * wobble, c["min_modulation_w"], c["max_modulation_w"]), 0.0)
    power = energy / minutes
    return batch.state.copy(power_w=power, flow_w=np.zeros(len(batch)), available=np.ones(len(batch), dtype=bool))


def simulate_air_conditioner(batch: Batch) -> State:
    if not len(batch):
        return State.empty()
    # Full cooling 10 degrees above the setpoint.
    need = (batch.homes.temperature_c - batch.config["setpoint_c"]) / 10.0
    return run(batch, need, AC_USE, salt=0xAC)


def simulate_heater(batch: Batch) -> State:
    if not len(batch):
        return State.empty()
    # Full heating 20 degrees below the setpoint.
    need = (batch.config["setpoint_c"] - batch.homes.temperature_c) / 20.0
    return run(batch, need, HEAT_USE, salt=0x4E)
