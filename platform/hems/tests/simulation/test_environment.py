"""The environment every home is simulated in: the sun's position."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from pvlib import spa

from hems.simulation import environment


def test_the_sun_for_many_homes_at_once_is_the_sun_for_each_home_alone():
    rng = np.random.default_rng(7)
    latitude, longitude = rng.uniform(-66, 70, 300), rng.uniform(-180, 180, 300)
    for instant in (datetime(2026, 6, 22, 11, 3, tzinfo=UTC), datetime(2026, 12, 21, 23, 59, tzinfo=UTC)):
        zenith, azimuth = environment.sun_position(instant, latitude, longitude)
        alone = [
            spa.solar_position_numpy(np.array([instant.timestamp()]), lat, lon, 0.0, 1013.25, 12.0,
                                     environment.DELTA_T, 0.5667, 1)
            for lat, lon in zip(latitude, longitude, strict=True)
        ]  # fmt: skip
        assert zenith.shape == azimuth.shape == (300,)
        assert np.array_equal(zenith, [float(np.squeeze(one[0])) for one in alone])
        assert np.array_equal(azimuth, [float(np.squeeze(one[4])) for one in alone])
        # Day on one side of the Earth, night on the other.
        assert (zenith < 90).any() and (zenith > 90).any()


def test_no_homes_no_sun():
    zenith, azimuth = environment.sun_position(datetime(2026, 6, 22, tzinfo=UTC), np.zeros(0), np.zeros(0))
    assert zenith.shape == azimuth.shape == (0,)
