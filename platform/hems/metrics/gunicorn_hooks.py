"""gunicorn's settings for ``bin/hems web`` (``--config python:hems.metrics.gunicorn_hooks``).

prometheus-client's multiprocess mode asks the server to mark each exited worker dead, so
a restarted worker's "live" gauges do not linger; its counters stay in the sum."""

import os

from prometheus_client import multiprocess


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
