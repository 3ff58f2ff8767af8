"""Battery physics: the requested mode within rate limits and bounds; in AUTO, the
flow the tick asks for to balance the home. Losses split evenly between charge and
discharge (each leg sqrt(round-trip efficiency))."""

from __future__ import annotations

import numpy as np

from hems.sdk import Batch, State, integrate_flow


def simulate(batch: Batch) -> State:
    if not len(batch):
        return State.empty()
    c = batch.config
    mode = c["mode"]
    desired = np.select(
        [mode == "charging", mode == "discharging", mode == "auto"],
        [c["max_charge_w"], -c["max_discharge_w"], batch.demand_w],
        default=0.0,
    )
    leg = np.sqrt(c["round_trip_efficiency"])
    flow, level = integrate_flow(
        desired, batch.state.level_wh, c["capacity_wh"], c["max_charge_w"], c["max_discharge_w"],
        batch.elapsed_h, leg, leg,
    )  # fmt: skip
    return batch.state.copy(
        power_w=np.abs(flow), flow_w=flow, level_wh=level, available=np.ones(len(batch), dtype=bool)
    )
