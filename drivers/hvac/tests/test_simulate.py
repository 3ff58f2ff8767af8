"""Air conditioner and heater physics: they follow the weather and the hour, cycling."""

from datetime import UTC, datetime, timedelta

import numpy as np

from hems.testing import kind as registered_kind
from hems.testing import make_batch

AC = {"rated_power_w": 3500.0, "min_modulation_w": 400.0, "max_modulation_w": 3200.0, "setpoint_c": 24.0}
HEATER = {"rated_power_w": 2000.0, "min_modulation_w": 500.0, "max_modulation_w": 2000.0, "setpoint_c": 20.0}


def day_curve(kind, attrs, start):
    """The power of a one-minute tick every five minutes over a day (a longer span
    reports the mean over its minutes, on and off: see the contract's gap check)."""
    simulate = registered_kind(kind).simulate
    instants = [start + timedelta(minutes=5 * i) for i in range(24 * 12)]
    return np.array([simulate(make_batch(kind, instant, [attrs])).power_w[0] for instant in instants])


def test_an_air_conditioner_varies_over_a_hot_day_within_its_range():
    curve = day_curve("air_conditioner", AC, datetime(2026, 7, 20, 0, 0, tzinfo=UTC))
    running = curve[curve > 0]
    assert len(running) and ((running >= AC["min_modulation_w"]) & (running <= AC["max_modulation_w"])).all()
    assert (curve == 0).any(), "it cycles off"
    assert len(np.unique(np.round(running))) > 10, "never a flat value"


def test_a_heater_varies_over_a_cold_day_within_its_range():
    curve = day_curve("heater", HEATER, datetime(2026, 1, 20, 0, 0, tzinfo=UTC))
    running = curve[curve > 0]
    assert len(running) > len(curve) // 3
    assert ((running >= HEATER["min_modulation_w"]) & (running <= HEATER["max_modulation_w"])).all()
    assert (curve == 0).any() and len(np.unique(np.round(running))) > 10


def test_they_follow_the_outdoor_temperature():
    noon = datetime(2026, 7, 20, 12, 0, tzinfo=UTC)

    def duty(kind, attrs, temperature):
        ids = list(range(1, 201))
        state = registered_kind(kind).simulate(
            make_batch(kind, noon, [attrs] * 200, ids=ids, temperature_c=temperature)
        )
        return (state.power_w > 0).mean(), state.power_w[state.power_w > 0].mean() if (state.power_w > 0).any() else 0

    assert duty("air_conditioner", AC, 20.0)[0] == 0  # cooler than the setpoint: off
    assert duty("air_conditioner", AC, 36.0)[0] > duty("air_conditioner", AC, 28.0)[0]
    assert duty("air_conditioner", AC, 36.0)[1] > duty("air_conditioner", AC, 28.0)[1]
    assert duty("heater", HEATER, 25.0)[0] == 0
    assert duty("heater", HEATER, -10.0)[0] > duty("heater", HEATER, 10.0)[0]
