"""The web server's hooks (hems.web_server): a worker loads the schema before its
first request and keeps it out of the garbage collector's full collections."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys

import pytest

from hems import web_server

# A fresh process, as a gunicorn worker is once it has loaded the application.
FRESH_WORKER = """
import gc, json, sys
import django
django.setup()
from hems import web_server
before = "hems.api.schema" in sys.modules
frozen = web_server.warm_and_freeze()
from graphene_django.settings import graphene_settings
print(json.dumps({
    "before": before, "after": "hems.api.schema" in sys.modules, "frozen": frozen,
    "count": gc.get_freeze_count(),
    "validated": graphene_settings.SCHEMA.graphql_schema._validation_errors == [],
}))
"""


def test_a_worker_loads_and_checks_the_schema_then_freezes_it():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "hems.settings"}
    done = subprocess.run(
        [sys.executable, "-c", FRESH_WORKER], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["before"] is False and seen["after"] is True and seen["validated"] is True
    assert seen["frozen"] == seen["count"] > 10_000


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()  # the rest of the test run collects as usual


def test_what_requests_allocate_afterwards_is_still_collected(unfrozen):
    web_server.warm_and_freeze()
    cycle: list = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1
