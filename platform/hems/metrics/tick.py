"""The tick's figures: what ``hems.simulation.tick.run_shard`` reports, recorded per shard."""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING

from hems.metrics import definitions as m

if TYPE_CHECKING:
    from hems.simulation.tick import ShardReport

# The report's "total" is the shard as a whole (its own histogram), not a phase.
TOTAL = "total"
# The latest minute this process committed: a retried shard of an older one must not lower it.
_latest = 0.0


def observe_commit(instant: datetime) -> None:
    """A shard of the tick at ``instant`` (its scheduled minute) has just committed."""
    global _latest
    scheduled = instant.timestamp()
    # Never negative: a minute is rounded to the nearest, so a tick may commit just before it.
    m.TICK_LAG_SECONDS.observe(max(0.0, time.time() - scheduled))
    if scheduled > _latest:
        _latest = scheduled
        m.TICK_LAST_INSTANT.set(scheduled)


def observe_shard(report: ShardReport) -> ShardReport:
    """Count a shard, applied or skipped as a duplicate, with its phases; returns the report."""
    if not report.applied:
        m.TICK_SHARDS.labels("duplicate").inc()
        return report
    m.TICK_SHARDS.labels("applied").inc()
    m.TICK_DEVICES.inc(report.devices)
    m.TICK_STATE_ROWS.inc(report.written)
    m.TICK_HOMES.inc(report.homes)
    for phase, seconds in report.seconds.items():
        if phase == TOTAL:
            m.TICK_SHARD_SECONDS.observe(seconds)
        else:
            m.TICK_PHASE_SECONDS.labels(phase).observe(seconds)
    return report
