"""Generator physics: steady output at its rating, varying within +-5 %."""

from __future__ import annotations

import numpy as np

from hems.sdk import Batch, State

VARIATION = 0.05


def simulate(batch: Batch) -> State:
    if not len(batch):
        return State.empty()
    wobble = (2 * batch.uniform(salt=0x6E) - 1) * VARIATION
    power = batch.config["rated_output_w"] * (1 + wobble)
    return batch.state.copy(power_w=power, flow_w=np.zeros(len(batch)), available=np.ones(len(batch), dtype=bool))
