"""apply_reports and the tick on the embedded mode's SQLite (a process of its own: the
test run's database is PostgreSQL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]
SCRIPT = Path(__file__).with_name("embedded_script.py")


def test_reports_integrate_and_the_tick_counts_them_on_sqlite(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "HEMS_HTTPS"}}
    env |= {"HEMS_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "hems.settings", "LOG_LEVEL": "WARNING"}
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], env=env, cwd=ROOT, check=True, capture_output=True)
    done = subprocess.run(
        [*manage, "shell", "-c", SCRIPT.read_text()], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["vendor"] == "sqlite"
    assert result["first"] == [""] and result["second"] == ["", "not newer than the last report"]
    assert result["pending"] == pytest.approx(1000 * 30 / 3600)
    expected = 1000 * 30 / 3600 + 2000 * 30 / 3600
    assert result["power_w"] == 2000
    assert result["hour_energy_wh"] == pytest.approx(expected, rel=1e-6)
    assert result["production_wh"] == pytest.approx(expected, rel=1e-6)
    assert result["above"] == ["above the device's rating"]
    # Offline at 10:21:40: 2000 W from the tick (10:21) to then, pending for the next tick.
    assert result["went_offline"] and result["offline"][:2] == [False, 0.0]
    assert result["offline"][2] == pytest.approx(2000 * 40 / 3600)
