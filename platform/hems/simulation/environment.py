"""Each home's clock, weather and sun at the tick's instant.

Weather is a deterministic model, not a forecast: temperatures follow the season
(by latitude) and the hour, and cloud cover drifts smoothly over hours. Homes in the
same one-degree cell share their weather, as neighbours do.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
from pvlib import spa

from hems.sdk.simulation import smooth_noise

DELTA_T = 69.0  # TT - UT1 in seconds (2020s)


def local_clock(instant: datetime, time_zones: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(hour of day, weekday, day of year) at each home, computing each zone once."""
    hour = np.empty(len(time_zones))
    weekday = np.empty(len(time_zones), dtype=np.int64)
    day = np.empty(len(time_zones), dtype=np.int64)
    unique, inverse = np.unique(time_zones.astype(str), return_inverse=True)
    for i, name in enumerate(unique):
        local = instant.astimezone(ZoneInfo(name))
        mask = inverse == i
        hour[mask] = local.hour + local.minute / 60 + local.second / 3600
        weekday[mask] = local.weekday()
        day[mask] = local.timetuple().tm_yday
    return hour, weekday, day


def utc_offsets(instant: datetime, time_zones: np.ndarray) -> np.ndarray:
    """Each home's offset from UTC at the instant, in seconds."""
    offsets = np.empty(len(time_zones))
    unique, inverse = np.unique(time_zones.astype(str), return_inverse=True)
    for i, name in enumerate(unique):
        offsets[inverse == i] = instant.astimezone(ZoneInfo(name)).utcoffset().total_seconds()
    return offsets


def weather_cell(latitude: np.ndarray, longitude: np.ndarray) -> np.ndarray:
    return ((np.round(latitude) + 90) * 1000 + (np.round(longitude) + 180)).astype(np.int64)


def cloud_cover(cell: np.ndarray, hours: float) -> np.ndarray:
    """0 (clear) to 1 (overcast); new weather every ~3 hours, smoothly joined."""
    noise = smooth_noise(cell, hours, period_h=3.0, salt=0xC10D)
    return np.clip(noise**1.4 * 1.15 - 0.05, 0.0, 1.0)


def temperature(latitude, hour, day_of_year, clouds, cell, hours: float) -> np.ndarray:
    """Outdoor temperature: a yearly mean by latitude, a seasonal swing peaking in late
    July (late January south of the equator), a daily swing peaking at 15:00 that
    clouds damp, and a few degrees of drifting weather."""
    lat = np.abs(latitude)
    mean = 28.0 - 0.35 * lat
    hemisphere = np.where(latitude >= 0, 1.0, -1.0)
    season = 0.25 * lat * hemisphere * np.cos(2 * np.pi * (day_of_year - 200) / 365.25)
    daily = 5.0 * (1 - 0.5 * clouds) * np.cos(2 * np.pi * (hour - 15.0) / 24.0)
    drift = 6.0 * (smooth_noise(cell, hours, period_h=12.0, salt=0x7E) - 0.5)
    return mean + season + daily + drift


def sun_position(instant: datetime, latitude: np.ndarray, longitude: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(apparent zenith, azimuth) in degrees, from NREL's SPA (pvlib.spa)."""
    if not len(latitude):
        return np.zeros(0), np.zeros(0)
    # One instant, broadcast over the homes: SPA's terms that depend on time alone (the
    # heliocentric series, nutation: most of its cost) are computed once, not per home.
    unixtime = np.array([instant.timestamp()])
    apparent_zenith, _, _, _, azimuth, _ = spa.solar_position_numpy(
        unixtime, latitude, longitude, 0.0, 1013.25, 12.0, DELTA_T, 0.5667, 1
    )
    return np.asarray(apparent_zenith, dtype=float), np.asarray(azimuth, dtype=float)
