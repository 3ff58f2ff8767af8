"""A history range's bucket starts: the walk in local time answers exactly what stepping
bucket by bucket with ``following()`` answers, in zones whose clocks change at midnight,
by half an hour, or skipped a whole day."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from hems.energy.buckets import bucket_starts, floor, following

ZONES = [
    "Europe/Berlin",
    "America/Havana",  # clocks change at midnight: a day may start at 01:00
    "America/Santiago",  # midnight skipped, and midnight repeated
    "Asia/Beirut",  # changes at midnight
    "Australia/Lord_Howe",  # half an hour of daylight saving
    "Asia/Kolkata",  # half-hour offset, no changes
    "Pacific/Apia",  # skipped 30 December 2011 altogether
    "Pacific/Kiritimati",  # +14
    "Pacific/Pago_Pago",  # -11
]


def stepped(start, end, interval, zone, limit):
    """The plain definition: from the bucket holding ``start``, each following start
    before ``end``."""
    starts, current = [], floor(start, interval, zone)
    while current < end:
        if len(starts) == limit:
            raise ValueError(f"the range holds more than {limit} {interval} buckets")
        starts.append(current)
        current = following(current, interval, zone)
    return starts


def ends_near(moment: datetime, zone: ZoneInfo, rng: random.Random) -> list[datetime]:
    """``moment`` and instants around it, written in the zone, in UTC and in fixed offsets
    (what a client sends), some on the zone's local midnight."""
    local_midnight = floor(moment, "day", zone)
    candidates = [moment, local_midnight, local_midnight + timedelta(minutes=1), local_midnight - timedelta(minutes=1)]
    written = []
    for instant in candidates:
        written += [
            instant.astimezone(zone),
            instant.astimezone(UTC),
            instant.astimezone(timezone(timedelta(minutes=rng.randrange(-12 * 60, 14 * 60 + 1, 15)))),
        ]
    return written


@pytest.mark.parametrize("zone_key", ZONES)
@pytest.mark.parametrize("interval", ["day", "week", "month"])
def test_the_walk_answers_what_stepping_answers(zone_key, interval):
    zone = ZoneInfo(zone_key)
    rng = random.Random(f"{zone_key}-{interval}")
    changes = []
    # Each offset change of the zone from 2008 to 2030 (to within six hours), and
    # random instants.
    probe = datetime(2008, 1, 1, tzinfo=UTC)
    while probe < datetime(2030, 1, 1, tzinfo=UTC):
        later = probe + timedelta(hours=6)
        if probe.astimezone(zone).utcoffset() != later.astimezone(zone).utcoffset():
            changes.append(later)
        probe = later
    moments = rng.sample(changes, min(len(changes), 12))
    moments += [datetime(2008, 1, 1, tzinfo=UTC) + timedelta(hours=rng.randrange(0, 24 * 365 * 22)) for _ in range(6)]
    compared = 0
    for moment in moments:
        for start in ends_near(moment - timedelta(days=rng.choice([1, 3, 40, 400])), zone, rng)[:4]:
            for end in ends_near(moment, zone, rng):
                if end <= start:
                    continue
                got = bucket_starts(start, end, interval, zone, 1000)
                expected = stepped(start, end, interval, zone, 1000)
                assert [(s, s.fold) for s in got] == [(s, s.fold) for s in expected]
                compared += 1
    assert compared > 150


def test_folds_are_kept_as_stepping_keeps_them():
    """A range starting in the second 23:30 of a night whose clocks go back at midnight
    (Santiago, 4 April 2026): its day's start carries that time's fold, 1, and the next
    days' 0, as stepping answers."""
    zone = ZoneInfo("America/Santiago")
    repeated = datetime(2026, 4, 4, 23, 30, tzinfo=zone).astimezone(UTC) + timedelta(hours=1)
    got = bucket_starts(repeated, repeated + timedelta(days=3), "day", zone, 10)
    assert [(start.isoformat(), start.fold) for start in got] == [
        ("2026-04-04T00:00:00-03:00", 1),
        ("2026-04-05T00:00:00-04:00", 0),
        ("2026-04-06T00:00:00-04:00", 0),
        ("2026-04-07T00:00:00-04:00", 0),
    ]
    expected = stepped(repeated, repeated + timedelta(days=3), "day", zone, 10)
    assert [(start, start.fold) for start in got] == [(start, start.fold) for start in expected]


@pytest.mark.parametrize("interval", ["hour", "day", "week", "month"])
def test_more_buckets_than_the_limit_are_refused(interval):
    zone = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 1, 1, tzinfo=zone)
    end = start + timedelta(days=800)
    count = len(stepped(start, end, interval, zone, 100_000))
    assert len(bucket_starts(start, end, interval, zone, count)) == count
    with pytest.raises(ValueError, match=f"more than {count - 1} {interval} buckets"):
        bucket_starts(start, end, interval, zone, count - 1)


def test_an_unknown_interval_is_refused():
    zone = ZoneInfo("Europe/Berlin")
    with pytest.raises(ValueError, match="interval must be one of hour, day, week, month"):
        bucket_starts(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC), "year", zone, 10)
