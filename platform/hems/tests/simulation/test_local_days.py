"""The local day a finished device hour files into, computed by the engine.

The day upsert no longer looks each device's zone up in the database: the engine
hands it the local midnight of every finished hour. It must be the midnight the
calendar reads give (``energy.buckets.floor``) in whole-, half- and quarter-hour zones,
on DST days, and for devices of one home whose finished hours differ.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from hems.energy.buckets import floor
from hems.simulation.engine import local_days

ZONES = np.array(["Europe/Berlin", "Asia/Kolkata", "Asia/Kathmandu", "America/New_York", "Pacific/Chatham"])


def expected(start: float, zone: str) -> float:
    return floor(datetime.fromtimestamp(start, UTC), "day", ZoneInfo(zone)).timestamp()


def test_each_hour_files_into_its_homes_local_day():
    # Hours either side of local midnights and of the DST changes of 2026 (Europe on
    # 29 March and 25 October, North America on 8 March and 1 November).
    moments = [
        datetime(2026, 3, 7, 22, tzinfo=UTC),
        datetime(2026, 3, 8, 4, tzinfo=UTC),
        datetime(2026, 3, 8, 5, tzinfo=UTC),
        datetime(2026, 3, 28, 23, tzinfo=UTC),
        datetime(2026, 3, 29, 0, tzinfo=UTC),
        datetime(2026, 6, 21, 18, 15, tzinfo=UTC),
        datetime(2026, 6, 21, 18, 30, tzinfo=UTC),
        datetime(2026, 10, 24, 22, tzinfo=UTC),
        datetime(2026, 10, 25, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 1, tzinfo=UTC),
        datetime(2026, 11, 1, 4, tzinfo=UTC),
        datetime(2026, 11, 1, 5, tzinfo=UTC),
    ]
    home = np.repeat(np.arange(len(ZONES)), len(moments))
    starts = np.tile([m.timestamp() for m in moments], len(ZONES))
    # Shuffled, as a shard's kinds interleave homes.
    order = np.random.default_rng(5).permutation(len(home))
    home, starts = home[order], starts[order]

    days = local_days(starts, home, ZONES)

    assert days.tolist() == [expected(s, ZONES[h]) for s, h in zip(starts.tolist(), home.tolist(), strict=True)]


def test_devices_of_one_home_with_different_finished_hours():
    midnight = datetime(2026, 6, 22, tzinfo=ZoneInfo("Europe/Berlin")).astimezone(UTC)
    starts = np.array([(midnight - timedelta(hours=1)).timestamp(), midnight.timestamp(), midnight.timestamp()])
    days = local_days(starts, np.zeros(3, dtype=np.int64), ZONES)
    assert days.tolist() == [(midnight - timedelta(days=1)).timestamp(), midnight.timestamp(), midnight.timestamp()]


def test_no_finished_hour():
    assert local_days(np.zeros(0), np.zeros(0, dtype=np.int64), ZONES).tolist() == []
