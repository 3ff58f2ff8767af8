"""The admin's user page: that user's home over its latest recorded day, drawn by the
dashboard's chart partial."""

from __future__ import annotations

from django.utils import timezone

from hems.dashboard import series
from hems.dashboard.periods import period
from hems.devices.models import Home
from hems.simulation import history


def chart_context(user) -> dict:
    """The ``chart`` the dashboard's chart partial draws: ``user``'s home on the local day
    of its latest history (today while it ticks), or today when it has none."""
    home = Home.of(user)
    running = history.running_hour(user.pk)  # the home's latest hour, whatever the retention
    latest = running[0] if running else None
    now = timezone.now()
    day = latest.astimezone(home.zone).date().isoformat() if latest else None
    return {"chart": series.chart(user.pk, period("day", day, home.zone, now))}
