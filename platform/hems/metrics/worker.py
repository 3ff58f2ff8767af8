"""The Celery worker's part (imported by the worker through ``CELERY_IMPORTS``): the main
process serves the pool's metrics on ``HEMS_METRICS_WORKER_ADDRESS``; a pool process that
exits is marked dead in the multiprocess directory."""

from __future__ import annotations

import os

from celery.signals import worker_process_shutdown, worker_ready
from django.conf import settings
from prometheus_client import multiprocess

from hems.metrics.exporter import start_exporter
from hems.metrics.exposition import MULTIPROC_DIR


@worker_ready.connect(dispatch_uid="hems.metrics.worker_ready")
def serve_metrics(**kwargs):
    start_exporter(settings.HEMS_METRICS_WORKER_ADDRESS)


@worker_process_shutdown.connect(dispatch_uid="hems.metrics.worker_process_shutdown")
def forget_live_gauges(pid=None, **kwargs):
    # Its counters and histograms stay in the sum; only "live" gauges are this process's alone.
    if os.environ.get(MULTIPROC_DIR):
        multiprocess.mark_process_dead(pid or os.getpid())
