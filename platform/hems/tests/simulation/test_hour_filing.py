"""A device's ended hour is filed at the device's own minute (``HEMS_DEVICE_HOUR_FILING_MINUTES``),
not by the first tick of the next hour for every device at once; meanwhile its state row
holds it, and every reader counts it exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from django.db import connection
from django.db.models import Q

from hems.devices.models import DeviceState, Home
from hems.simulation import history
from hems.simulation.engine import CLEAR, CLOSE, KEEP, device_hours, filing_due
from hems.simulation.tick import run_tick
from hems.tests.factories import kind_keys, make_device

HOUR = datetime(2026, 6, 22, 10, 0, tzinfo=UTC)


def test_each_devices_minute_comes_once_in_its_span():
    ids = np.arange(1000, 1240)
    for minutes in (60, 7):
        met = np.zeros(len(ids), dtype=int)
        last = np.full(len(ids), HOUR.timestamp())
        for minute in range(1, minutes + 1):  # one tick a minute, over ``minutes`` minutes
            now = HOUR.timestamp() + 60 * minute
            met += filing_due(ids, last, now, minutes)
            last[:] = now
        assert (met == 1).all()
        now += 60
        np.testing.assert_array_equal(filing_due(ids, last, now, minutes), ids % minutes == (now // 60) % minutes)
    # Ticks five minutes apart meet every minute they passed; a device never ticked is due.
    sparse = filing_due(ids, np.full(len(ids), HOUR.timestamp()), HOUR.timestamp() + 300, 60)
    np.testing.assert_array_equal(sparse, np.isin(ids % 60, [1, 2, 3, 4, 5]))
    assert filing_due(ids[:2], np.full(2, np.nan), HOUR.timestamp(), 60).all()
    assert filing_due(ids, np.full(len(ids), HOUR.timestamp()), HOUR.timestamp() + 60, 1).all()


def rows(ids, running, energy, closed_start, closed_energy, *, simulated_at):
    n = len(ids)
    full = np.full(n, np.nan)
    hour = {"start": np.array(running, dtype=float), "energy_wh": np.array(energy, dtype=float)}
    hour |= {"charge_wh": np.zeros(n), "discharge_wh": np.zeros(n)}
    hour |= {"closed_start": np.array(closed_start, dtype=float), "closed_energy_wh": np.array(closed_energy)}
    hour |= {"closed_charge_wh": full.copy(), "closed_discharge_wh": full.copy(), "closed_level_wh": full.copy()}
    level = SimpleNamespace(level_wh=np.full(n, np.nan))  # no storage
    return SimpleNamespace(ids=np.array(ids), hour=hour, state=level, simulated_at=np.full(n, simulated_at))


def tick(kind_rows, now, energy_wh=5.0):
    n = len(kind_rows.ids)
    energy = {"energy_wh": np.full(n, energy_wh), "charge_wh": np.zeros(n), "discharge_wh": np.zeros(n)}
    return device_hours(
        kind_rows, np.ones(n, dtype=bool), energy, np.full(n, 1 / 60), now, np.zeros(n), np.array(["UTC"]),
        np.zeros(n, dtype=int), 60,
    )  # fmt: skip


def test_the_hour_ending_waits_for_the_devices_minute_then_is_filed_once():
    ten, eleven = HOUR.timestamp(), HOUR.timestamp() + 3600
    nothing = [np.nan, np.nan]
    # 11:01: hour 10:00 ends. Device 61's minute is 1: filed now; device 62's is 2: it waits.
    ended = rows([61, 62], [ten, ten], [100.0, 200.0], nothing, nothing, simulated_at=eleven)
    hour, finished, filing = tick(ended, eleven + 60)
    assert finished["device_id"].tolist() == [61] and finished["energy_wh"].tolist() == [100.0]
    assert finished["start"].tolist() == [ten] and finished["day_start"].tolist() == [ten - 10 * 3600]
    assert filing.tolist() == [KEEP, CLOSE]
    assert np.isnan(hour["closed_start"][0]) and hour["closed_start"][1] == ten
    assert hour["closed_energy_wh"][1] == 200.0 and hour["start"].tolist() == [eleven, eleven]
    # 11:02: device 62's minute: its waiting hour is filed, and cleared from the state row.
    waiting = rows([62], [eleven], [5.0], [ten], [200.0], simulated_at=eleven + 60)
    hour, finished, filing = tick(waiting, eleven + 120)
    assert finished["device_id"].tolist() == [62] and finished["energy_wh"].tolist() == [200.0]
    assert filing.tolist() == [CLEAR] and np.isnan(hour["closed_start"][0]) and np.isnan(hour["closed_energy_wh"][0])


def test_an_hour_still_waiting_when_the_next_one_ends_is_filed_first():
    """(The device's minute was not met: its home's zone moved, or the setting grew.)"""
    ten, eleven, noon = (HOUR.timestamp() + 3600 * h for h in range(3))
    waiting = rows([62, 63], [eleven, eleven], [300.0, 0.0], [ten, ten], [200.0, 50.0], simulated_at=noon)
    hour, finished, filing = tick(waiting, noon + 60)
    assert sorted(finished["device_id"].tolist()) == [62, 63]
    assert finished["start"].tolist() == [ten, ten] and finished["energy_wh"].tolist() == [200.0, 50.0]
    # 62's hour 11:00 waits in its place; 63's had no energy and no level: nothing waits.
    assert filing.tolist() == [CLOSE, CLEAR]
    assert hour["closed_start"][0] == eleven and hour["closed_energy_wh"][0] == 300.0
    assert np.isnan(hour["closed_start"][1])


def test_a_device_quiet_when_its_hour_ends_keeps_it_running_until_its_minute_or_its_next_energy():
    """No energy this tick and no level: the ended hour stays where it is, so the state
    row does not change (the tick then leaves it unwritten)."""
    ten, eleven = HOUR.timestamp(), HOUR.timestamp() + 3600
    nothing = [np.nan, np.nan]
    # 11:01: hour 10:00 ended; 62 (minute 2) had 200 Wh in it, 63 (minute 3) nothing.
    quiet = rows([62, 63], [ten, ten], [200.0, 0.0], nothing, nothing, simulated_at=eleven)
    hour, finished, filing = tick(quiet, eleven + 60, energy_wh=0.0)
    assert filing.tolist() == [KEEP, KEEP] and not len(finished["device_id"])
    assert hour["start"].tolist() == [ten, ten] and hour["energy_wh"].tolist() == [200.0, 0.0]
    assert np.isnan(hour["closed_start"]).all()
    # 11:02, 62's minute: its hour 10:00 is filed from where it ran; 63 still keeps its empty one.
    quiet = rows([62, 63], [ten, ten], [200.0, 0.0], nothing, nothing, simulated_at=eleven + 60)
    hour, finished, filing = tick(quiet, eleven + 120, energy_wh=0.0)
    assert finished["device_id"].tolist() == [62] and finished["start"].tolist() == [ten]
    assert finished["energy_wh"].tolist() == [200.0] and filing.tolist() == [KEEP, KEEP]
    assert hour["start"].tolist() == [eleven, ten] and hour["energy_wh"].tolist() == [0.0, 0.0]
    # 63's next energy starts its hour; the empty one is not filed. 65's, before its
    # minute, closes its ended hour to wait, as when an hour ends.
    busy = rows([63, 65], [ten, ten], [0.0, 50.0], nothing, nothing, simulated_at=eleven + 120)
    hour, finished, filing = tick(busy, eleven + 180 + 60, energy_wh=5.0)
    assert not len(finished["device_id"]) and filing.tolist() == [KEEP, CLOSE]
    assert hour["start"].tolist() == [eleven, eleven] and hour["energy_wh"].tolist() == [5.0, 5.0]
    assert hour["closed_start"][1] == ten and hour["closed_energy_wh"][1] == 50.0


@pytest.mark.django_db
def test_readers_see_each_hour_once_while_the_devices_file_it_minute_by_minute(user, other_user):
    """Every minute of the hour after the midnight that ends a day in Berlin: each
    device's hour and day answer the same, whether its last hour is filed or waits;
    by the end every hour is filed, once."""
    berlin = ZoneInfo("Europe/Berlin")
    for owner in (user, other_user):
        home = Home.of(owner)
        home.time_zone = berlin.key
        home.save()
    devices = [make_device(owner, key) for owner in (user, other_user) for key in kind_keys()]
    midnight = datetime(2026, 6, 23, 0, 0, tzinfo=berlin).astimezone(UTC)  # 22:00 UTC
    day = (midnight - timedelta(days=1), midnight + timedelta(days=1))
    last_hour = (midnight - timedelta(hours=1), midnight)

    # An hour with nothing in it reads as empty, whether a quiet device's state row
    # still runs it (engine.device_hours) or not.
    empty = history.empty_device_bucket()

    def read():
        return {
            device.pk: (
                history.device_buckets(device.pk, *last_hour, "hour", berlin).get(last_hour[0], empty),
                history.device_buckets(device.pk, *day, "day", berlin, current_hour=state_hour(device)),
            )
            for device in devices
        }

    def waiting() -> int:
        return DeviceState.objects.filter(closed_hour_start__isnull=False).count()

    instant = midnight - timedelta(minutes=3)
    while instant <= midnight + timedelta(minutes=1):  # 00:01 ends the hour 23:00
        run_tick(instant)
        instant += timedelta(minutes=1)
    first = read()
    seen = {pk for pk, (hour, _) in first.items() if hour and hour["energy_wh"] + hour["charge_wh"] > 0}
    assert len(seen) >= 3  # devices that drew or made energy in the hour
    # Of 20-odd consecutive ids, at most one has the minute 00:01: the others' state rows
    # hold their hour, waiting to be filed or, where quiet at 00:01, still running.
    held = DeviceState.objects.filter(Q(closed_hour_start__isnull=False) | Q(hour_start=last_hour[0]))
    assert held.filter(device_id__in=seen).count() >= len(seen) - 1
    while instant <= midnight + timedelta(hours=1):  # to 01:00 (minute 0): the next hour has not ended
        run_tick(instant)
        if instant.minute % 10 == 0:
            now = read()
            for pk, (hour, days) in first.items():
                assert now[pk][0] == pytest.approx(hour), (pk, instant)
                yesterday = day[0].astimezone(UTC)
                assert now[pk][1].get(yesterday, empty) == pytest.approx(days.get(yesterday, empty)), (pk, instant)
        instant += timedelta(minutes=1)
    assert waiting() == 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT device_id, count(*) FROM hems_device_energy WHERE hour_start = %s GROUP BY 1", [last_hour[0]]
        )
        filed = dict(cursor.fetchall())
        cursor.execute(
            "SELECT device_id, energy_wh FROM hems_device_energy_day WHERE day_start = %s", [day[0].astimezone(UTC)]
        )
        days = dict(cursor.fetchall())
    assert set(filed.values()) == {1} and set(filed) >= seen
    for pk in seen:  # the day rows hold the last hour now, as the readers counted it
        assert days[pk] == pytest.approx(first[pk][1][day[0].astimezone(UTC)]["energy_wh"])


def state_hour(device):
    return DeviceState.objects.get(pk=device.pk).hour_start
