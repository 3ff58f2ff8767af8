"""The appliances' batch physics (``DeviceKind.simulate``): pure functions of the batch.

Each returns the mean power over the span since the device's last tick (see
:mod:`hems_appliances.cycles`); appliances are never taken away (``available``) and
have no storage flow.
"""

from __future__ import annotations

import numpy as np

from hems.sdk import Batch, State
from hems_appliances import physics
from hems_appliances.cycles import Habit, Profile, mean_power, span_hours
from hems_appliances.programs import DISHWASHER_PUMP_W, dishwasher_phases, mains_water_c, spin_power_w, washer_phases

# When households start their machines (relative weights per local hour, 0 to 23).
DISHWASHER_HABIT = Habit(
    start_weights=np.array(
        [0, 0, 0, 0, 0, 0, 0.2, 0.5, 0.6, 0.5, 0.3, 0.3, 0.6, 1.2, 1.2, 0.6, 0.3, 0.3, 0.5, 1.0, 2.2, 2.6, 1.8, 0.6]
    ),
    day_weights=np.ones(7),
    salt=0xD15,
)
WASHER_HABIT = Habit(
    start_weights=np.array(
        [0, 0, 0, 0, 0, 0, 0.2, 0.8, 1.6, 1.9, 1.7, 1.3, 1.0, 0.9, 0.9, 0.9, 1.0, 1.1, 1.2, 1.1, 0.8, 0.4, 0.1, 0]
    ),
    day_weights=np.array([1.0, 0.9, 0.9, 1.0, 1.0, 1.7, 1.5]),  # laundry piles up for the weekend
    salt=0x3A5,
)
# Mains voltage varies by a few per cent; a resistive heater's power with its square.
VOLTAGE_SPREAD = 0.015


def max_dishwasher_w(config) -> np.ndarray:
    """``DeviceKind.max_power_w``: the heater and the pump, with the mains a little high."""
    return (config["heater_power_w"] + DISHWASHER_PUMP_W + 5.0) * 1.02


def max_washing_machine_w(config) -> np.ndarray:
    """The heater with the drum turning, or the motor at top spin, with the mains a little high."""
    return np.maximum(config["heater_power_w"] + 30.0, spin_power_w(np.float64(1_800.0))) * 1.02


def max_refrigerator_w(config) -> np.ndarray:
    """The compressor in the warmest kitchen, or the defrost heater."""
    return np.maximum(config["compressor_power_w"] * 1.05, config["defrost_heater_w"])


def finish(batch: Batch, power_w: np.ndarray) -> State:
    n = len(batch)
    return batch.state.copy(power_w=power_w, flow_w=np.zeros(n), available=np.ones(n, dtype=bool))


def voltage_factor(batch: Batch, salt: int) -> np.ndarray:
    return 1.0 + VOLTAGE_SPREAD * (2.0 * batch.uniform(salt) - 1.0)


def inlet_c(batch: Batch) -> np.ndarray:
    return mains_water_c(batch.homes.day_of_year, batch.homes.latitude)


def simulate_dishwasher(batch: Batch) -> State:
    """Pre-rinse, heated wash (heater + pump, ~1,840 W for a 1,800 W heater), rinse,
    heated final rinse, drying; started on schedule or by the household's habit."""
    if not len(batch):
        return State.empty()
    c = batch.config
    profile = Profile(*dishwasher_phases(c["cycle"], c["heater_power_w"], inlet_c(batch)))
    return finish(batch, mean_power(batch, profile, DISHWASHER_HABIT) * voltage_factor(batch, 0xD16))


def simulate_washing_machine(batch: Batch) -> State:
    """Fill, heat, wash, drain, spin, rinse, final spin at the chosen speed."""
    if not len(batch):
        return State.empty()
    c = batch.config
    profile = Profile(*washer_phases(c["wash_program"], c["heater_power_w"], c["spin_rpm"], inlet_c(batch)))
    return finish(batch, mean_power(batch, profile, WASHER_HABIT) * voltage_factor(batch, 0x3A6))


def simulate_refrigerator(batch: Batch) -> State:
    """The compressor's thermostat cycle, the defrost heater and the recovery after it."""
    if not len(batch):
        return State.empty()
    c, homes = batch.config, batch.homes
    room = physics.room_c(homes.temperature_c)
    nominal = physics.fridge_nominal_duty(c["compressor_power_w"], c["annual_energy_kwh"], c["defrost_heater_w"])
    duty = physics.fridge_duty(nominal, room, c["setpoint_c"], homes.local_hour)
    # Each fridge has its own cycle length (30 to 50 min) and its own phases.
    period = 30.0 + 20.0 * batch.uniform(0xF1, minute=0)
    phase = period * batch.uniform(0xF2, minute=0)
    defrost_phase = physics.DEFROST_PERIOD_MIN * batch.uniform(0xF3, minute=0)
    t, span = float(batch.minute), span_hours(batch) * 60.0
    defrost_share, _ = physics.defrost_shares(c["defrost_heater_w"])
    has_defrost = defrost_share > 0
    defrosting = np.where(
        has_defrost,
        physics.share_on(t, span, physics.DEFROST_PERIOD_MIN, physics.DEFROST_MIN, defrost_phase),
        0.0,
    )
    recovering = np.where(
        has_defrost,
        physics.share_on(
            t, span, physics.DEFROST_PERIOD_MIN, physics.RECOVERY_MIN, defrost_phase + physics.DEFROST_MIN
        ),
        0.0,
    )
    cycling = physics.share_on(t, span, period, duty * period, phase)
    # A warmer room raises the condensing pressure: the compressor draws a little more.
    compressor = c["compressor_power_w"] * (1.0 + 0.008 * (room - physics.LABEL_ROOM_C))
    power = (
        c["defrost_heater_w"] * defrosting
        + compressor * recovering
        + compressor * cycling * np.clip(1.0 - defrosting - recovering, 0.0, 1.0)
    )
    return finish(batch, power)
