"""Solar physics: the sun's curve at the home's place and date, and the clouds."""

from datetime import UTC, datetime

import numpy as np
import pytest

from hems.testing import kind as registered_kind
from hems.testing import make_batch, run_day

PANEL = {"rated_power_w": 5000.0, "tilt_deg": 35.0, "azimuth_deg": 180.0, "derate": 0.9}


def power(instant, **options):
    return float(
        registered_kind("solar_panel").simulate(make_batch("solar_panel", instant, [PANEL], **options)).power_w[0]
    )


def test_zero_at_local_midnight():
    # 00:00 in Berlin in June is 22:00 UTC the day before.
    assert power(datetime(2026, 6, 20, 22, 0, tzinfo=UTC), time_zone="Europe/Berlin") == 0.0


def test_near_its_rating_at_a_clear_summer_noon():
    # Solar noon in Berlin is about 11:07 UTC; a clear sky, a mild day.
    noon = power(datetime(2026, 6, 21, 11, 7, tzinfo=UTC), cloud_cover=0.0, temperature_c=20.0)
    assert 0.75 * PANEL["rated_power_w"] <= noon <= PANEL["rated_power_w"]


def test_clouds_cut_production():
    noon = datetime(2026, 6, 21, 11, 7, tzinfo=UTC)
    assert power(noon, cloud_cover=1.0, temperature_c=20.0) < 0.4 * power(noon, cloud_cover=0.0, temperature_c=20.0)


def test_the_curve_rises_peaks_around_solar_noon_and_falls():
    day = run_day("solar_panel", [PANEL], datetime(2026, 6, 21, 0, 0, tzinfo=UTC), step_minutes=30, cloud_cover=0.0)
    curve = np.array([state.power_w[0] for _, state in day])
    hours = np.array([instant.hour + instant.minute / 60 for instant, _ in day])
    assert curve[hours < 2.5].max() == 0 and curve[hours > 20].max() == 0  # night (UTC) in Berlin
    peak = hours[curve.argmax()]
    assert 10 <= peak <= 12.5  # solar noon ~11:07 UTC
    morning = curve[(hours >= 4) & (hours <= peak)]
    assert (np.diff(morning) >= -1e-6).all()  # rising towards noon on a clear day


def test_winter_noon_gives_less_than_summer_noon():
    summer = power(datetime(2026, 6, 21, 11, 7, tzinfo=UTC), cloud_cover=0.0, temperature_c=15.0)
    winter = power(datetime(2026, 12, 21, 11, 7, tzinfo=UTC), cloud_cover=0.0, temperature_c=15.0)
    assert winter < 0.75 * summer


def test_the_place_matters_sydney_is_dark_when_berlin_is_bright():
    berlin_noon = datetime(2026, 6, 21, 11, 7, tzinfo=UTC)
    assert power(berlin_noon, latitude=-33.87, longitude=151.21, time_zone="Australia/Sydney") == 0.0


@pytest.mark.parametrize("tilt", [0.0, 90.0])
def test_any_orientation_stays_within_the_rating(tilt):
    panel = {**PANEL, "tilt_deg": tilt, "azimuth_deg": 90.0}
    day = run_day("solar_panel", [panel], datetime(2026, 6, 21, 0, 0, tzinfo=UTC), cloud_cover=0.0)
    assert all(0 <= state.power_w[0] <= panel["rated_power_w"] for _, state in day)
