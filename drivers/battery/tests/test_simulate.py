"""Battery physics: modes, rate limits, bounds, losses, and AUTO balancing."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from hems.testing import kind as registered_kind
from hems.testing import make_batch

BATTERY = {"capacity_wh": 10_000.0, "level_wh": 5_000.0, "max_charge_w": 4_000.0, "max_discharge_w": 5_000.0,
           "round_trip_efficiency": 0.9}  # fmt: skip
NOON = datetime(2026, 6, 21, 12, 0, tzinfo=UTC)


def step(attrs, **options):
    return registered_kind("battery").simulate(make_batch("battery", NOON, [attrs], **options))


@pytest.mark.parametrize(("mode", "flow"), [("charging", 4000.0), ("discharging", -5000.0), ("idle", 0.0)])
def test_modes_run_at_their_rate_limit(mode, flow):
    state = step({**BATTERY, "mode": mode})
    assert state.flow_w[0] == pytest.approx(flow) and state.power_w[0] == pytest.approx(abs(flow))


def test_losses_split_between_charge_and_discharge():
    charged = step({**BATTERY, "mode": "charging"}, elapsed_h=1.0)
    assert charged.level_wh[0] == pytest.approx(5000 + 4000 * np.sqrt(0.9))
    drained = step({**BATTERY, "mode": "discharging"}, elapsed_h=0.5)
    assert drained.level_wh[0] == pytest.approx(5000 - 2500 / np.sqrt(0.9))


def test_it_stops_at_its_bounds():
    full = step({**BATTERY, "level_wh": 10_000.0, "mode": "charging"})
    empty = step({**BATTERY, "level_wh": 0.0, "mode": "discharging"})
    assert full.flow_w[0] == 0 and full.power_w[0] == 0 and full.level_wh[0] == 10_000
    assert empty.flow_w[0] == 0 and empty.power_w[0] == 0 and empty.level_wh[0] == 0


def test_near_a_bound_it_takes_only_what_fits():
    state = step({**BATTERY, "level_wh": 9_990.0, "mode": "charging"}, elapsed_h=1 / 60)
    assert 0 < state.flow_w[0] < 4000 and state.level_wh[0] == pytest.approx(10_000)


@pytest.mark.parametrize(
    ("demand", "flow"), [(2500.0, 2500.0), (-3000.0, -3000.0), (9000.0, 4000.0), (-9000.0, -5000.0)]
)
def test_auto_follows_the_homes_demand_within_its_limits(demand, flow):
    state = step({**BATTERY, "mode": "auto"}, demand_w=[demand])
    assert state.flow_w[0] == pytest.approx(flow)


def test_never_leaves_its_bounds_nor_exceeds_its_rates_over_a_simulated_day():
    simulate = registered_kind("battery").simulate
    rng = np.random.default_rng(7)
    attrs = [{**BATTERY, "mode": mode} for mode in ("auto", "charging", "discharging", "auto")]
    state = None
    for minute in range(0, 24 * 60, 5):
        batch = make_batch("battery", NOON + timedelta(minutes=minute), attrs, state=state, elapsed_h=5 / 60,
                           demand_w=list(rng.uniform(-12_000, 12_000, len(attrs))))  # fmt: skip
        state = simulate(batch)
        assert ((state.level_wh >= 0) & (state.level_wh <= 10_000)).all()
        assert (state.flow_w <= 4000 + 1e-9).all() and (state.flow_w >= -5000 - 1e-9).all()
