"""Refrigerator physics: a thermostat's duty cycle, and a defrost heater.

The compressor removes the heat that leaks in through the walls (proportional to
the gap between the room and the inside) and comes in with the door (more around
meals). The energy label fixes how long it runs at the label's conditions; the
thermostat runs it for that share of each cycle, scaled by today's gap and the
hour's door openings. Twice a day a heater melts the frost off the evaporator for
20 minutes (the compressor off), after which the compressor runs flat out for 15
minutes to pull the temperature back down.
"""

from __future__ import annotations

import numpy as np

LABEL_ROOM_C = 24.0  # EN 62552:2020 averages tests at 16 and 32 °C
LABEL_INSIDE_C = 4.0
DEFROST_PERIOD_MIN = 12 * 60.0
DEFROST_MIN = 20.0
RECOVERY_MIN = 15.0
HOURS_PER_YEAR = 8_760.0

# Relative door openings per local hour (breakfast, lunch, dinner), averaging 1.
_DOOR = np.array(
    [
        0.4,
        0.3,
        0.3,
        0.3,
        0.3,
        0.4,
        0.9,
        1.6,
        1.5,
        1.0,
        0.9,
        1.1,
        1.6,
        1.4,
        1.0,
        0.9,
        1.0,
        1.3,
        1.9,
        2.0,
        1.5,
        1.1,
        0.8,
        0.5,
    ]
)
DOOR_OPENINGS = _DOOR / _DOOR.mean()
# The door's share of the heat load; the walls' is the rest.
DOOR_SHARE = 0.25


def defrost_shares(defrost_heater_w):
    """Shares of the time spent defrosting and recovering (0 without a defrost heater)."""
    has = np.asarray(defrost_heater_w) > 0
    return np.where(has, DEFROST_MIN / DEFROST_PERIOD_MIN, 0.0), np.where(has, RECOVERY_MIN / DEFROST_PERIOD_MIN, 0.0)


def fridge_nominal_duty(compressor_power_w, annual_energy_kwh, defrost_heater_w):
    """The compressor's duty cycle outside defrost at the label's conditions: the
    share of the time it must run for the year's energy to match the label."""
    defrost, recovery = defrost_shares(defrost_heater_w)
    mean_w = np.asarray(annual_energy_kwh) * 1_000.0 / HOURS_PER_YEAR
    thermostat_w = mean_w - np.asarray(defrost_heater_w) * defrost - np.asarray(compressor_power_w) * recovery
    return thermostat_w / (np.asarray(compressor_power_w) * (1.0 - defrost - recovery))


def room_c(outdoor_c: np.ndarray) -> np.ndarray:
    """The kitchen: heated to about 20 °C in the cold, warming with a hot day."""
    return np.clip(20.0 + 0.4 * np.maximum(outdoor_c - 20.0, 0.0), 18.0, 30.0)


def fridge_duty(nominal, room, setpoint, local_hour):
    """The thermostat's duty now: the label's duty scaled by the heat load."""
    walls = (room - setpoint) / (LABEL_ROOM_C - LABEL_INSIDE_C)
    door = DOOR_OPENINGS[np.floor(local_hour).astype(int) % 24]
    return np.clip(nominal * ((1 - DOOR_SHARE) * walls + DOOR_SHARE * door), 0.02, 0.95)


def time_on(t_min, period_min, on_min, phase_min):
    """Minutes a square wave (on for ``on_min`` from ``phase_min``, every
    ``period_min``) has been on between the origin and ``t_min``."""
    y = t_min - phase_min
    return np.floor(y / period_min) * on_min + np.minimum(np.mod(y, period_min), on_min)


def share_on(t_min, span_min, period_min, on_min, phase_min):
    """The share of the span ``(t - span, t]`` the square wave is on."""
    on = time_on(t_min, period_min, on_min, phase_min) - time_on(t_min - span_min, period_min, on_min, phase_min)
    return np.clip(on / span_min, 0.0, 1.0)
