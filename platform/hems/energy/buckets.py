"""Calendar buckets of a home's history, in the home's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

INTERVALS = ("hour", "day", "week", "month")

# The instants history may be asked about. Wide enough for any real history and any
# forecast, narrow enough that a bucket stepped or shifted into any local zone stays
# within Python's years 1 to 9999 and PostgreSQL's timestamps.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def out_of_range(instant: datetime) -> str | None:
    """Why an (aware) instant cannot bound a history range, or None when it can."""
    if EARLIEST <= instant <= LATEST:
        return None
    return f"must be between {EARLIEST:%Y-%m-%dT%H:%M:%SZ} and {LATEST:%Y-%m-%dT%H:%M:%SZ}"


def floor(instant: datetime, interval: str, zone: ZoneInfo) -> datetime:
    """The start of the bucket holding ``instant`` (aware, in ``zone``)."""
    local = instant.astimezone(zone)
    if interval == "hour":
        return local.replace(minute=0, second=0, microsecond=0)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    if interval == "week":
        day -= timedelta(days=day.weekday())  # ISO weeks start on Monday
    elif interval == "month":
        day = day.replace(day=1)
    return day.replace(tzinfo=zone)


def following(start: datetime, interval: str, zone: ZoneInfo) -> datetime:
    """The start of the next bucket: calendar arithmetic in local time, so a day
    across a daylight-saving change lasts 23 or 25 hours."""
    if interval == "hour":
        # In UTC: every hour exists once, even where local clocks repeat or skip one.
        return (start.astimezone(UTC) + timedelta(hours=1)).astimezone(zone)
    naive = start.replace(tzinfo=None)
    step = _LOCAL_STEPS.get(interval)
    return (naive + step if step else _next_month(naive)).replace(tzinfo=zone)


_LOCAL_STEPS = {"day": timedelta(days=1), "week": timedelta(days=7)}


def _next_month(naive: datetime) -> datetime:
    return naive.replace(year=naive.year + naive.month // 12, month=naive.month % 12 + 1)


# More than two offsets of one zone ever differ by (Samoa's skipped day in 2011: 24 hours).
_OFFSETS_SPAN = timedelta(days=3)


def bucket_starts(start: datetime, end: datetime, interval: str, zone: ZoneInfo, limit: int) -> list[datetime]:
    """Starts of the buckets overlapping ``[start, end)``; ValueError past ``limit``."""
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {', '.join(INTERVALS)}")
    too_many = f"the range holds more than {limit} {interval} buckets"
    starts: list[datetime] = []
    current = floor(start, interval, zone)
    if interval == "hour":
        while current < end:
            if len(starts) == limit:
                raise ValueError(too_many)
            starts.append(current)
            current = following(current, interval, zone)
        return starts
    # Days, weeks and months step in local time, as following() does, without its
    # zone lookups at every step: a start more than any offset change before ``end``'s
    # local time is before ``end``, so only the last few are compared with it (whose
    # offset may be another zone's, which costs a lookup each).
    naive = current.replace(tzinfo=None)
    surely_before = end.astimezone(zone).replace(tzinfo=None) - _OFFSETS_SPAN
    step = _LOCAL_STEPS.get(interval)
    while True:
        current = naive.replace(tzinfo=zone)
        if naive >= surely_before and not current < end:
            return starts
        if len(starts) == limit:
            raise ValueError(too_many)
        starts.append(current)
        naive = naive + step if step else _next_month(naive)
