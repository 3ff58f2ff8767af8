"""The day, week or month a dashboard page shows, in the home's own calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hems.energy.buckets import floor, following

# A view, and the history's bucket it is drawn in.
VIEWS = {"day": "hour", "week": "day", "month": "day"}


class BadPeriod(ValueError):
    """A view or date the dashboard cannot show; the message says what it takes."""


@dataclass(frozen=True)
class Period:
    view: str
    start: datetime  # aware, in the home's zone
    end: datetime
    zone: ZoneInfo
    now: datetime

    @property
    def interval(self) -> str:
        return VIEWS[self.view]

    @property
    def day(self) -> date:
        return self.start.date()

    @property
    def previous(self) -> date:
        return floor(self.start - timedelta(hours=1), self.view, self.zone).date()

    @property
    def next(self) -> date | None:
        """The next period's first day; None when that is still to come."""
        return self.end.date() if self.end <= self.now else None

    @property
    def is_current(self) -> bool:
        return self.start <= self.now < self.end

    @property
    def label(self) -> str:
        if self.view == "day":
            return f"{self.start:%A %-d %B %Y}"
        if self.view == "week":
            last = (self.end - timedelta(hours=1)).date()
            return f"Week {self.start:%V}: {self.start:%-d %b} to {last:%-d %b %Y}"
        return f"{self.start:%B %Y}"


def period(view: str | None, day: str | None, zone: ZoneInfo, now: datetime) -> Period:
    """The period of ``view`` (day, week, month; default day) holding the local date
    ``day`` (YYYY-MM-DD; default today in the home's zone). BadPeriod when either is
    not understood or the period has not started yet."""
    view = view or "day"
    if view not in VIEWS:
        raise BadPeriod(f"view must be one of {', '.join(VIEWS)}, not {view!r}.")
    if day:
        try:
            local = datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=zone)
        except ValueError:
            raise BadPeriod(f"date must be a day as YYYY-MM-DD, not {day!r}.") from None
    else:
        local = now.astimezone(zone)
    start = floor(local, view, zone)
    if start > now:
        raise BadPeriod(f"{start.date().isoformat()} has not begun yet in the home's time zone ({zone.key}).")
    return Period(view=view, start=start, end=following(start, view, zone), zone=zone, now=now)
