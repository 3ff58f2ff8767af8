"""The embedded mode's ingest: inside the one web process (``HEMS_INGEST_IN_WEB``, set by
``bin/hems all`` without Redis when MQTT is configured), as its ticker is
(hems.push.lifespan): without Redis a change can reach only the subscribers of the
process that publishes it, so the ingest runs where they are. Each batch runs in a
worker thread through ``DatabaseSyncToAsync``, whose ``publish_changes`` reaches this
loop's in-memory channel layer.
"""

from __future__ import annotations

import logging

from channels.db import DatabaseSyncToAsync

logger = logging.getLogger("hems.live.ingest")


async def run_ingest() -> None:
    from hems.live.runner import Runner
    from hems.live.subscriber import Subscriber

    subscriber = Subscriber(client_id="hems-ingest-embedded")
    runner = Runner(subscriber)
    step = DatabaseSyncToAsync(runner.step_once, thread_sensitive=False)
    subscriber.start()
    logger.info("ingest: live devices' reports are taken in by this web process")
    try:
        while True:
            try:
                await step()
            except Exception:  # the runner keeps database errors itself; nothing else may stop the loop
                logger.exception("ingest: a batch failed")
    finally:
        runner.stopping = True
        subscriber.stop()
