"""The appliances' physics: program profiles, schedules, habits and the fridge's cycle.

Instants are pinned (local time in Berlin, the default home) and the batches built
as the tick builds them; simulate() never reads the clock, so freezegun also proves
it does not depend on "now".
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from freezegun import freeze_time

from hems.testing import kind, make_batch, run_day

# These tests need the package installed (pip install -e ./examples/hems-appliances).
pytest.importorskip("hems_appliances", reason="hems-appliances is not installed")

BERLIN = ZoneInfo("Europe/Berlin")
DISHWASHER_AT_13 = {
    "cycle": "normal",
    "heater_power_w": 1_800.0,
    "start_time": time(13, 0),
    "cycles_per_week": 5.0,
}
WASHER_AT_9 = {"wash_program": "cotton_40", "heater_power_w": 2_000.0, "spin_rpm": 1_400, "start_time": time(9, 0)}
FRIDGE = {"compressor_power_w": 90.0, "annual_energy_kwh": 150.0, "setpoint_c": 5.0, "defrost_heater_w": 200.0}


def local(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def power(kind_key, attributes, instant, **options):
    """The power of each device at ``instant`` (a one-minute tick)."""
    return kind(kind_key).simulate(make_batch(kind_key, instant, attributes, **options)).power_w


def minute_curve(kind_key, attributes, start, minutes, **options):
    """Power of one device minute by minute from ``start``."""
    return np.array([power(kind_key, [attributes], start + timedelta(minutes=m), **options)[0] for m in range(minutes)])


@freeze_time("2026-03-10 03:00:00")  # "now" is irrelevant: the batch's instant is what counts
def test_a_dishwasher_scheduled_at_13_heats_at_13_05_and_is_off_at_12_55():
    assert power("dishwasher", [DISHWASHER_AT_13], local(2026, 3, 10, 12, 55))[0] == 0.0
    heating = power("dishwasher", [DISHWASHER_AT_13], local(2026, 3, 10, 13, 5))[0]
    assert heating == pytest.approx(1_840.0, rel=0.02), "heater (1,800 W) and circulation pump (40 W)"


def test_a_dishwasher_cycle_has_its_phases_and_uses_about_a_kilowatt_hour():
    curve = minute_curve("dishwasher", DISHWASHER_AT_13, local(2026, 3, 10, 12, 50), 240)
    running = curve[curve > 0]
    heating = running[running > 1_000]
    assert len(heating) >= 20, "two heating phases (wash, final rinse) of a quarter of an hour or so"
    # Pumps or heater; only a minute in which the heater switches off reads in between.
    assert ((running > 100) & (running < 1_700)).sum() <= 2
    # Two separate heating phases with circulation between them.
    hot = (curve > 1_000).astype(int)
    assert np.count_nonzero(np.diff(hot) == 1) == 2
    energy_kwh = curve.sum() / 60 / 1_000
    assert 0.85 < energy_kwh < 1.3, energy_kwh
    assert not curve[:10].any(), "nothing before 13:00"
    assert curve[-30:].max() == 0.0, "done within three hours"


def test_the_eco_program_is_longer_and_uses_less():
    eco = minute_curve("dishwasher", {**DISHWASHER_AT_13, "cycle": "eco"}, local(2026, 3, 10, 13, 0), 300)
    normal = minute_curve("dishwasher", DISHWASHER_AT_13, local(2026, 3, 10, 13, 0), 300)
    assert eco.sum() < normal.sum()
    assert np.flatnonzero(eco)[-1] > np.flatnonzero(normal)[-1]


def test_a_weaker_heater_heats_longer_for_the_same_energy():
    strong = minute_curve("dishwasher", DISHWASHER_AT_13, local(2026, 3, 10, 13, 0), 200)
    weak = minute_curve("dishwasher", {**DISHWASHER_AT_13, "heater_power_w": 1_200.0}, local(2026, 3, 10, 13, 0), 200)
    assert (weak > 1_000).sum() > (strong > 1_000).sum()
    assert weak.sum() == pytest.approx(strong.sum(), rel=0.03)


def test_cold_winter_water_takes_more_heating_than_summer_water():
    winter = minute_curve("dishwasher", DISHWASHER_AT_13, local(2026, 2, 15, 13, 0), 200)
    summer = minute_curve("dishwasher", DISHWASHER_AT_13, local(2026, 8, 15, 13, 0), 200)
    assert winter.sum() > summer.sum() * 1.05


def test_a_washing_machine_heats_washes_and_spins():
    curve = minute_curve("washing_machine", WASHER_AT_9, local(2026, 5, 4, 9, 0), 180)
    assert curve[2] == pytest.approx(60.0, rel=0.02), "filling"
    assert curve[6] == pytest.approx(2_030.0, rel=0.02), "heating the water"
    assert 2_000 * 0.98 <= curve.max() <= 2_030 * 1.02
    running = np.flatnonzero(curve)
    spin = curve[running[-5:-1]]  # the last minute is partly after the end
    assert spin == pytest.approx(480.0, rel=0.02), "the final spin at 1,400 rpm"
    assert 0.7 < curve.sum() / 60 / 1_000 < 1.1, "cotton at 40 °C uses about 0.9 kWh"
    slower = minute_curve("washing_machine", {**WASHER_AT_9, "spin_rpm": 800}, local(2026, 5, 4, 9, 0), 180)
    assert slower[np.flatnonzero(slower)[-1]] < spin[-1] / 2


def test_a_program_running_over_midnight_finishes_the_next_day():
    late = {**DISHWASHER_AT_13, "start_time": time(23, 30)}
    curve = minute_curve("dishwasher", late, local(2026, 3, 10, 23, 25), 200)
    assert curve[:5].max() == 0 and curve[5:30].max() > 1_000, "starts at 23:30"
    assert curve[40:].max() > 1_000, "the final rinse heats after midnight"


def test_a_missed_tick_reports_the_energy_of_the_whole_span():
    start = local(2026, 3, 10, 13, 0)
    by_minute = minute_curve("dishwasher", DISHWASHER_AT_13, start, 60)
    for step in (5, 10, 30):
        spans = [
            power("dishwasher", [DISHWASHER_AT_13], start + timedelta(minutes=m), elapsed_h=step / 60)[0]
            for m in range(step, 61, step)
        ]
        assert np.sum(spans) * step == pytest.approx(by_minute.sum(), rel=0.02), step


def habit_days(kind_key, attributes, days, n=300):
    """For ``n`` devices over ``days`` days: the local hours they started at."""
    starts = []
    ids = list(range(1_000, 1_000 + n))
    for day in range(days):
        midnight = local(2026, 4, 6) + timedelta(days=day)
        previous = np.zeros(n)
        for minute in range(0, 24 * 60, 5):
            now = power(kind_key, [attributes] * n, midnight + timedelta(minutes=minute), ids=ids)
            started = (now > 0) & (previous == 0)
            starts += [minute / 60] * int(started.sum())
            previous = now
    return np.array(starts)


@pytest.mark.slow
def test_without_a_schedule_dishwashers_run_after_meals_about_as_often_as_set():
    habit = {"cycle": "quick", "heater_power_w": 1_800.0, "start_time": None, "cycles_per_week": 5.0}
    starts = habit_days("dishwasher", habit, days=7, n=200)
    per_week = len(starts) / 200
    assert 4.0 < per_week < 6.0, per_week
    evening = ((starts >= 19) & (starts < 23)).mean()
    night = ((starts >= 1) & (starts < 6)).mean()
    assert evening > 0.45 and night == 0.0


def test_without_a_schedule_a_machine_is_sometimes_on_and_mostly_off():
    habit = {**WASHER_AT_9, "start_time": None, "cycles_per_week": 7.0}
    curves = [state.power_w for _, state in run_day("washing_machine", [habit] * 50, local(2026, 4, 11), 5)]
    on = np.array(curves) > 0
    assert 0.03 < on.mean() < 0.25
    assert on[: 6 * 12].sum() == 0, "nobody starts the washing at night"


def fridge_day(attributes, start, step_minutes=1, **options):
    """Mean powers over each step of a day (exact energy whatever the step)."""
    days = run_day("refrigerator", attributes, start, step_minutes=step_minutes, **options)
    return np.array([s.power_w for _, s in days])


def test_a_fridge_cycles_its_compressor_and_averages_its_label_over_a_day():
    day = fridge_day([FRIDGE], local(2026, 4, 20), temperature_c=12.0)[:, 0]
    compressor = day[(day > 0) & (day < 150)]
    assert len(compressor) and np.median(compressor) == pytest.approx(90.0, rel=0.05)
    duty = (day > 0).mean()
    assert 0.08 < duty < 0.4, duty
    label_mean_w = 150_000 / 8_760
    assert 0.6 * label_mean_w < day.mean() < 1.2 * label_mean_w, day.mean()
    switches = np.count_nonzero(np.diff((day > 0).astype(int)) == 1)
    assert switches > 20, "a thermostat cycles through the day, not once"


def test_a_fridge_defrosts_twice_a_day_then_recovers():
    day = fridge_day([FRIDGE], local(2026, 4, 20), temperature_c=12.0)[:, 0]
    defrosting = np.isclose(day, 200.0)
    assert 38 <= defrosting.sum() <= 42, "two 20-minute defrosts"
    ends = np.flatnonzero(np.diff(defrosting.astype(int)) == -1)
    for end in ends:
        assert (day[end + 2 : end + 15] > 80).all(), "the compressor runs flat out after a defrost"
    without = fridge_day([{**FRIDGE, "defrost_heater_w": 0.0}], local(2026, 4, 20), 5, temperature_c=12.0)[:, 0]
    assert without.max() < 100


def test_a_fridge_works_harder_in_a_hot_kitchen_and_around_meals():
    cool = fridge_day([FRIDGE], local(2026, 1, 20), 10, temperature_c=0.0)[:, 0]
    hot = fridge_day([FRIDGE], local(2026, 7, 20), 10, temperature_c=34.0)[:, 0]
    assert hot.mean() > 1.15 * cool.mean()
    ids = list(range(1, 401))
    night = power("refrigerator", [FRIDGE] * 400, local(2026, 4, 20, 3, 30), ids=ids, temperature_c=12.0)
    dinner = power("refrigerator", [FRIDGE] * 400, local(2026, 4, 20, 19, 30), ids=ids, temperature_c=12.0)
    assert dinner.mean() > 1.2 * night.mean()
