"""Generator physics: steady at its rating, within +-5 %."""

from datetime import UTC, datetime, timedelta

import numpy as np

from hems.testing import kind as registered_kind
from hems.testing import make_batch


def test_output_stays_within_five_percent_of_the_rating_over_many_ticks():
    simulate = registered_kind("generator").simulate
    rated = 3000.0
    outputs = np.concatenate(
        [
            simulate(
                make_batch(
                    "generator",
                    datetime(2026, 6, 21, tzinfo=UTC) + timedelta(minutes=m),
                    [{"rated_output_w": rated}] * 20,
                    ids=list(range(1, 21)),
                )
            ).power_w  # fmt: skip
            for m in range(500)
        ]
    )
    assert (outputs >= rated * 0.95).all() and (outputs <= rated * 1.05).all()
    assert outputs.std() > rated * 0.01  # it varies; not a flat value
    assert abs(outputs.mean() - rated) < rated * 0.005
