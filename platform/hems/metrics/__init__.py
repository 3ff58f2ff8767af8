"""Prometheus metrics of hems: the tick, the API and the ingest (docs/operations.md).

One job: define the metrics (``hems.metrics.definitions``) and expose them (``/metrics``
on the web process, an exporter of its own in the worker and the ingest). The code that
does the work calls one function each:

- the tick: :func:`observe_commit` and :func:`observe_shard` (``hems.simulation.tick``);
- the API: :func:`observe_requests` wraps the ``/graphql/`` view (``hems.urls``);
- the ingest: :func:`ingest_message` for each message, or a batch's count, accepted or
  dropped, and :func:`start_exporter` with ``HEMS_METRICS_INGEST_ADDRESS``.
"""

from hems.metrics.api import observe_requests
from hems.metrics.exporter import start_exporter
from hems.metrics.ingest import ingest_message
from hems.metrics.tick import observe_commit, observe_shard

__all__ = ["ingest_message", "observe_commit", "observe_requests", "observe_shard", "start_exporter"]
