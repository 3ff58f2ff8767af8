"""Programs as piecewise-constant power profiles, and when they start.

A wash program is a sequence of phases, each a duration (minutes) at a power (W).
The driver reports, for each device, the *mean* power over the span since its last
tick: the energy the profile delivered in that span divided by its length. With the
usual one-minute tick that is the power of that minute; after a missed tick it is
still exactly the energy the machine used, which the core integrates back.

Everything is computed from the clock and the configuration alone (no state carried
between ticks), so a tick replays exactly and a batch equals its devices one by one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from hems.sdk import Batch


@dataclass(frozen=True)
class Profile:
    """Per device (rows), per phase (columns): when each phase starts, how long it
    lasts (minutes from the program's start) and what it draws (W)."""

    durations_min: np.ndarray
    powers_w: np.ndarray

    @cached_property
    def starts_min(self) -> np.ndarray:
        return np.cumsum(self.durations_min, axis=1) - self.durations_min

    @cached_property
    def length_min(self) -> np.ndarray:
        return self.durations_min.sum(axis=1)

    def take(self, rows: np.ndarray) -> Profile:
        """The profiles of these rows (indices) only."""
        return Profile(self.durations_min[rows], self.powers_w[rows])

    def energy_until(self, position_min: np.ndarray) -> np.ndarray:
        """Wh drawn from the program's start up to ``position_min`` minutes into it
        (0 before the start, the whole program's energy after its end)."""
        inside = np.clip(position_min[:, None] - self.starts_min, 0.0, self.durations_min)
        return (inside * self.powers_w).sum(axis=1) / 60.0

    def power_at(self, position_min: np.ndarray) -> np.ndarray:
        """W drawn at ``position_min`` (0 outside the program)."""
        starts = self.starts_min
        inside = (position_min[:, None] >= starts) & (position_min[:, None] < starts + self.durations_min)
        return (inside * self.powers_w).sum(axis=1)


def span_hours(batch: Batch) -> np.ndarray:
    """The span each device's reading covers: its elapsed time, at least one minute
    (a new device) and at most two hours (what the core integrates at most)."""
    return np.clip(np.nan_to_num(batch.elapsed_h, nan=1 / 60), 1 / 60, 2.0)


def local_clock_hours(batch: Batch) -> np.ndarray:
    """Local time as hours since the local 1970-01-01 00:00, per device."""
    return batch.local_days() * 24.0 + batch.homes.local_hour


def habit_start_hour(u: np.ndarray, hourly_weights: np.ndarray) -> np.ndarray:
    """Map uniforms to start times (hours) following the household's hourly habit,
    rounded down to whole minutes (someone presses a button)."""
    edges = np.concatenate([[0.0], np.cumsum(hourly_weights)]) / np.sum(hourly_weights)
    hour = np.interp(u, edges, np.arange(25, dtype=float))
    return np.floor(np.minimum(hour, 24 - 1 / 60) * 60) / 60


@dataclass(frozen=True)
class Habit:
    """When a household runs a machine that has no start time set.

    :ivar start_weights: relative likelihood of starting in each local hour (24).
    :ivar day_weights: relative likelihood of running on each weekday, Monday first (7).
    :ivar salt: seeds this kind's decisions apart from other kinds'.
    """

    start_weights: np.ndarray
    day_weights: np.ndarray
    salt: int


def start_hours(batch: Batch, habit: Habit, day_offset: int) -> np.ndarray:
    """The local clock hour (see :func:`local_clock_hours`) at which each device's
    program starts on the local day ``today + day_offset``; NaN where it does not run.

    With ``start_time`` set, it runs every day at that time. Without, it runs on a
    share of the days such that it averages ``cycles_per_week`` (more on the habit's
    busy weekdays), starting at a time drawn from the habit's hourly profile. The
    draws are seeded by device and local day, so they are the same at every tick.
    """
    day = batch.local_days() + day_offset
    weekday = (batch.homes.weekday.astype(np.int64) + day_offset) % 7
    scheduled = batch.config["start_time"]
    share = habit.day_weights[weekday] / habit.day_weights.mean()
    p_run = np.clip(batch.config["cycles_per_week"] / 7.0 * share, 0.0, 1.0)
    runs = batch.uniform(habit.salt, minute=day) < p_run
    usual = habit_start_hour(batch.uniform(habit.salt + 1, minute=day), habit.start_weights)
    hour = np.where(np.isnan(scheduled), np.where(runs, usual, np.nan), scheduled)
    return day * 24.0 + hour


def mean_power(batch: Batch, profile: Profile, habit: Habit) -> np.ndarray:
    """Each device's mean power (W) over the span ending at the tick, from the
    programs started yesterday and today (a program outlasts no day)."""
    now = local_clock_hours(batch)
    span = span_hours(batch)
    energy = np.zeros(len(batch))
    for offset in (-1, 0):
        start = start_hours(batch, habit, offset)
        after_min = (now - start) * 60.0  # NaN where it does not run
        before_min = (now - span - start) * 60.0
        # Most machines are idle at any minute: the profile is evaluated only where the
        # program overlaps the span (elsewhere both ends read the same, a difference of 0).
        rows = np.flatnonzero((after_min > 0.0) & (before_min < profile.length_min))
        if rows.size:
            part = profile.take(rows)
            energy[rows] += part.energy_until(after_min[rows]) - part.energy_until(before_min[rows])
    return np.maximum(energy, 0.0) / span
