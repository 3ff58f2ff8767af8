"""bin/hems as a newcomer meets it: the environment wins over .env, the README's
`cp .env.example .env` works on a host, and a database that cannot be reached is one
line naming DATABASE_URL, not a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
SETTINGS_FROM_PYTEST = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "HEMS_HTTPS", "DJANGO_SETTINGS_MODULE"}


def checkout(tmp_path: Path, env_file: str) -> Path:
    """A checkout of its own (the script copied, the code linked) with this .env: a .env
    in the real checkout would be read by every bin/hems other tests run."""
    root = tmp_path / "checkout"
    (root / "bin").mkdir(parents=True)
    shutil.copy(ROOT / "bin" / "hems", root / "bin" / "hems")
    for name in ("manage.py", "platform", "drivers"):
        (root / name).symlink_to(ROOT / name)
    (root / ".env").write_text(env_file)
    return root


def clean_environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_FROM_PYTEST}
    return {**env, "PYTHON": sys.executable, **extra}


def test_the_environment_wins_over_the_env_file(tmp_path):
    root = checkout(tmp_path, "DEBUG=false\nLOG_LEVEL=WARNING\nDATABASE_URL=postgres://nobody@127.0.0.1:1/x\n")
    show = tmp_path / "show-env"  # stands in for python: prints what it was given
    show.write_text('#!/bin/sh\necho "DEBUG=$DEBUG LOG_LEVEL=$LOG_LEVEL DATABASE_URL=[$DATABASE_URL]"\n')
    show.chmod(0o755)
    env = clean_environment(PYTHON=str(show), DEBUG="1", DATABASE_URL="")
    done = subprocess.run([str(root / "bin" / "hems"), "ticker"], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    # Given on the command line: kept, even empty; only in .env: taken from it.
    assert done.stdout.strip() == "DEBUG=1 LOG_LEVEL=WARNING DATABASE_URL=[]"


def test_an_unreachable_database_is_one_line_naming_the_setting(tmp_path):
    env = clean_environment(
        DATABASE_URL="postgres://hems:s3cret@127.0.0.1:5432/hems",  # no such role here
        SECRET_KEY="a-test-key-" + "x" * 40,
        HEMS_HTTPS="false",
        STATIC_ROOT=str(tmp_path / "static"),
    )
    done = subprocess.run([str(ROOT / "bin" / "hems"), "migrate"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "DATABASE_URL=postgres://hems:***@127.0.0.1:5432/hems" in lines[0]
    assert 'role "hems" does not exist' in lines[0] and "s3cret" not in lines[0]
    assert "Traceback" not in done.stderr + done.stdout


def test_a_missing_setting_is_one_line_too(tmp_path):
    env = clean_environment(DATABASE_URL="postgres://postgres@127.0.0.1:5432/hems", DEBUG="false")
    done = subprocess.run([str(ROOT / "bin" / "hems"), "migrate"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert len(done.stderr.strip().splitlines()) == 1 and "SECRET_KEY" in done.stderr, done.stderr


def test_the_readmes_env_file_runs_on_a_host(tmp_path):
    """`cp .env.example .env` then bin/hems: the embedded mode (the file names no database
    the host does not have), migrated, with the demo user and GraphiQL on."""
    root = checkout(tmp_path, (ROOT / ".env.example").read_text())
    env = clean_environment(HEMS_DATA_DIR=str(tmp_path / "data"), STATIC_ROOT=str(tmp_path / "static"))
    done = subprocess.run([str(root / "bin" / "hems"), "migrate"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Created the demo user" in done.stdout and "GraphiQL" in done.stdout
    assert (tmp_path / "data" / "hems.sqlite3").exists()
    # GraphiQL's own files are collected for the web server to serve (WhiteNoise).
    assert (tmp_path / "static" / "vendor" / "graphiql-3.9.0" / "graphiql.min.js").exists()
    assert (tmp_path / "static" / "hems" / "graphiql.js").exists()
