"""Storage physics every storage kind shares: rate limits, bounds and losses."""

from __future__ import annotations

import numpy as np


def integrate_flow(
    desired_w: np.ndarray,
    level_wh: np.ndarray,
    capacity_wh: np.ndarray,
    max_charge_w: np.ndarray,
    max_discharge_w: np.ndarray,
    elapsed_h: np.ndarray,
    charge_efficiency: np.ndarray | float = 1.0,
    discharge_efficiency: np.ndarray | float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Clamp a desired flow (+ charge, - discharge, W at the terminals) to what the
    device can do over ``elapsed_h`` hours, and integrate it.

    The flow never exceeds the charge or discharge limit, and never more than what
    fits between the level and the bounds: at a bound the flow is 0. Charging stores
    ``flow x h x charge_efficiency``; discharging draws ``flow x h / discharge_efficiency``.

    :returns: (flow_w, new_level_wh), with the level in [0, capacity].
    """
    hours = np.maximum(elapsed_h, 1e-9)
    level = np.clip(np.nan_to_num(level_wh), 0.0, capacity_wh)
    max_in = np.minimum(max_charge_w, (capacity_wh - level) / (hours * charge_efficiency))
    max_out = np.minimum(max_discharge_w, level * discharge_efficiency / hours)
    flow = np.clip(desired_w, -np.maximum(max_out, 0.0), np.maximum(max_in, 0.0))
    flow = np.where(np.abs(flow) < 1e-6, 0.0, flow)
    stored = np.where(flow > 0, flow * hours * charge_efficiency, flow * hours / discharge_efficiency)
    return flow, np.clip(level + stored, 0.0, capacity_wh)
