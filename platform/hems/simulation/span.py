"""A kind's ``simulate()`` over a long span (after missed ticks), in sub-steps.

A driver's powers hold over the span since each device's last tick. Over a minute
that is exact; over two hours the sun, the weather and the local clock move on,
and a driver seeing only the environment at the span's end would take its noon
output for the whole morning. So a span longer than :data:`SUB_STEP_MIN` is cut
into sub-steps ending on whole minutes before the instant: the driver runs once per
sub-step with the environment at that sub-step's end, its state carried from one
to the next, and the powers returned are the means over the whole span (the energy
the sub-steps delivered, divided by the span). Within a sub-step the driver itself
accounts for what changes faster (duty cycles, programs, schedules).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace
from datetime import datetime, timedelta

import numpy as np

from hems.sdk.simulation import Batch, Homes, State

# Longer than a usual tick, short enough that the environment is nearly constant
# within it; a two-hour gap costs 24 driver calls instead of one.
SUB_STEP_MIN = 5


def simulate_span(
    simulate: Callable[[Batch], State], batch: Batch, environment_at: Callable[[datetime], Homes]
) -> State:
    """``simulate(batch)``, in sub-steps of at most :data:`SUB_STEP_MIN` when a device's
    span is longer. ``environment_at(instant)`` gives every home's environment at an
    instant (indexed by ``Homes.index``)."""
    step_h = SUB_STEP_MIN / 60.0
    longest = float(np.max(batch.elapsed_h)) if len(batch) else 0.0
    if longest <= step_h + 1e-9:
        return simulate(batch)
    n = len(batch)
    steps = int(np.ceil(longest / step_h - 1e-9))
    state = batch.state.copy()
    power_wh = np.zeros(n)
    flow_wh = np.zeros(n)
    # The sub-steps' extremes: their mean lies between them, but energy / hours can
    # round one ulp past them, which the tick's bound check would take for a fault.
    # NaN until a sub-step gives one (fmin/fmax skip NaN).
    low = np.full((2, n), np.nan)
    high = np.full((2, n), np.nan)
    for k in range(steps):
        ends_before = steps - 1 - k  # sub-steps between this one's end and the instant
        instant = batch.instant - timedelta(minutes=SUB_STEP_MIN * ends_before)
        # Each device's share of this sub-step that lies within its own span.
        hours = np.clip(batch.elapsed_h - ends_before * step_h, 0.0, step_h)
        part = np.flatnonzero(hours > 1e-12)
        if not len(part):
            continue
        sub = replace(
            batch.take(part),
            instant=instant,
            elapsed_h=hours[part],
            state=state.take(part),
            homes=environment_at(instant).take(batch.homes.index[part]),
        )
        out = simulate(sub)
        if len(out) != len(part):
            return out  # the caller's checks name the fault
        powers = np.nan_to_num(np.asarray([out.power_w, out.flow_w], dtype=float))
        power_wh[part] += powers[0] * hours[part]
        flow_wh[part] += powers[1] * hours[part]
        low[:, part] = np.fmin(low[:, part], powers)
        high[:, part] = np.fmax(high[:, part], powers)
        for f in fields(state):
            getattr(state, f.name)[part] = getattr(out, f.name)
    span = np.maximum(batch.elapsed_h, 1e-12)
    power_w = np.fmin(np.fmax(power_wh / span, low[0]), high[0])
    flow_w = np.fmin(np.fmax(flow_wh / span, low[1]), high[1])
    return replace(state, power_w=power_w, flow_w=flow_w)
