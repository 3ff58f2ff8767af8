"""Run on a host (``manage.py shell``): queue ticks one after the other, as beat would,
each once the previous one has committed, and print how long each took from its
publication to its last shard's commit (JSON, one list of seconds)."""

from __future__ import annotations

import json
import time
from datetime import datetime

import hems.celery  # noqa: F401  (the app that publishes to the configured broker)
from hems.simulation.models import TickShard
from hems.simulation.tasks import tick
from hems.simulation.tick import shard_count


def drive(instants: list[str], timeout: float = 600.0) -> list[float]:
    shards = shard_count()
    took = []
    for instant in instants:
        moment = datetime.fromisoformat(instant)
        started = time.perf_counter()
        tick.apply_async(kwargs={"instant": instant})
        deadline = started + timeout
        while TickShard.objects.filter(instant=moment).count() < shards:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"tick {instant} did not complete in {timeout:.0f} s")
            time.sleep(0.02)
        took.append(time.perf_counter() - started)
    print(json.dumps(took))
    return took
