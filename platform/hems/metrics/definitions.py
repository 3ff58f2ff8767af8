"""Every metric hems exports, in one place (docs/operations.md lists them).

prometheus-client's default registry holds them. Under ``bin/hems`` each process group
(gunicorn's workers, the Celery pool, the ingest) has a multiprocess directory
(``PROMETHEUS_MULTIPROC_DIR``) and each process writes its values there; without it
(tests, ``manage.py`` commands) they stay in the process (hems.metrics.exposition).

Labels are bounded by the code, never by a client: a tick's phases, an outcome, a root
field of the schema, an error code of hems.api.errors, a reason of the ingest.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# A shard's phases take milliseconds (a few homes) to tens of seconds (2,500 homes of 50
# devices on a busy host); the lag is seconds, a minute at most when the tick keeps up.
PHASE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60)
LAG_BUCKETS = (0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 45, 60, 90, 120, 300)
API_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

TICK_PHASE_SECONDS = Histogram(
    "hems_tick_phase_seconds",
    "Time one shard of the tick spent in each phase (load, simulate, write_db, history, write_redis, push).",
    ["phase"],
    buckets=PHASE_BUCKETS,
)
TICK_SHARD_SECONDS = Histogram(
    "hems_tick_shard_seconds", "Time to apply one shard of the tick, claim to push.", buckets=PHASE_BUCKETS
)
TICK_SHARDS = Counter(
    "hems_tick_shards",
    "Shards of the tick handled: applied, or duplicate (already applied: a redelivery, skipped).",
    ["outcome"],
)
TICK_LAG_SECONDS = Histogram(
    "hems_tick_lag_seconds", "Seconds from a tick's scheduled minute to its shard's commit.", buckets=LAG_BUCKETS
)
TICK_DEVICES = Counter("hems_tick_devices", "Devices simulated by the tick's applied shards.")
TICK_STATE_ROWS = Counter(
    "hems_tick_state_rows_written", "State rows the tick's applied shards rewrote: the devices whose state changed."
)
TICK_HOMES = Counter("hems_tick_homes", "Homes whose stats the tick's applied shards computed.")
TICK_LAST_INSTANT = Gauge(
    "hems_tick_last_instant_timestamp_seconds",
    "The latest scheduled minute a shard committed (Unix time): a tick that stalls stops it.",
    multiprocess_mode="max",
)

API_REQUEST_SECONDS = Histogram(
    "hems_api_request_seconds",
    "GraphQL requests over HTTP (/graphql/), by operation type and root field, authentication included.",
    ["operation_type", "operation"],
    buckets=API_BUCKETS,
)
API_ERRORS = Counter(
    "hems_api_errors",
    "GraphQL requests answered with an error, by its extensions.code (once per code and request).",
    ["operation_type", "operation", "code"],
)

INGEST_MESSAGES = Counter(
    "hems_ingest_messages",
    "Live devices' MQTT messages: accepted, or dropped with the reason.",
    ["outcome", "reason"],
)

# Outcomes known in advance start at zero, so rate() and absent() work from the first scrape.
for outcome in ("applied", "duplicate"):
    TICK_SHARDS.labels(outcome)

ALL = (
    TICK_PHASE_SECONDS,
    TICK_SHARD_SECONDS,
    TICK_SHARDS,
    TICK_LAG_SECONDS,
    TICK_DEVICES,
    TICK_STATE_ROWS,
    TICK_HOMES,
    TICK_LAST_INSTANT,
    API_REQUEST_SECONDS,
    API_ERRORS,
    INGEST_MESSAGES,
)
