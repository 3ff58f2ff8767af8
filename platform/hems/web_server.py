"""gunicorn's settings for ``bin/hems web`` (``--config python:hems.web_server``): its
hooks, which gunicorn finds by name."""

from __future__ import annotations

import gc
import os

from prometheus_client import multiprocess


def child_exit(server, worker):
    """prometheus-client's multiprocess mode asks the server to mark each exited worker
    dead, so a restarted worker's "live" gauges do not linger; its counters stay in the
    sum."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    """Each worker, once it has loaded the application: see :func:`warm_and_freeze`."""
    worker.log.info("Worker warmed: %d objects frozen out of the garbage collector's reach", warm_and_freeze())


def warm_and_freeze() -> int:
    """Load what a process's first request would (the URLconf, and through it the views
    and the GraphQL schema the drivers build), then move every object alive into the
    garbage collector's permanent generation; return how many.

    A full collection otherwise walks those few hundred thousand objects, which live as
    long as the process: about 120 ms added to whichever request happens to trigger it
    (bench/api.py: the slowest of 2,000 requests 120 to 150 ms, 8 to 40 ms frozen).
    What requests allocate is collected as before.
    """
    from django.urls import get_resolver
    from graphene_django.settings import graphene_settings
    from graphql.type import validate_schema

    get_resolver().url_patterns  # noqa: B018  (imported on first access)
    validate_schema(graphene_settings.SCHEMA.graphql_schema)  # built, then checked once per schema
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
