"""Generator physics: steady output at its rating, varying within +-5 %."""

from __future__ import annotations

import numpy as np

from hems.sdk import Batch, State

VARIATION = 0.05


def max_power_w(config) -> np.ndarray:
    """``DeviceKind.max_power_w``: the rating and its variation."""
    return config["rated_output_w"] * (1 + VARIATION)


def simulate(batch: Batch) -> State:
    if not len(batch):
        return State.empty()
    # The mean over the span's minutes, each with its own variation.
    minutes = np.maximum(np.rint(np.nan_to_num(batch.elapsed_h) * 60.0), 1.0)
    wobble = np.zeros(len(batch))
    for back in range(int(minutes.max())):
        varied = (2 * batch.uniform(salt=0x6E, minute=batch.minute - back) - 1) * VARIATION
        wobble += np.where(back < minutes, varied, 0.0)
    power = batch.config["rated_output_w"] * (1 + wobble / minutes)
    return batch.state.copy(power_w=power, flow_w=np.zeros(len(batch)), available=np.ones(len(batch), dtype=bool))
