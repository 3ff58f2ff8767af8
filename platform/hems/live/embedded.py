"""The embedded mode's ingest: inside the one web process (``HEMS_INGEST_IN_WEB``, set by
``bin/hems all`` without Redis when MQTT is configured), as its ticker is
(hems.push.lifespan): without Redis a change can reach only the subscribers of the
process that publishes it, so the ingest runs where they are. Each batch runs in a
worker thread through ``DatabaseSyncToAsync``, whose ``publish_changes`` reaches this
loop's in-memory channel layer.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from channels.db import DatabaseSyncToAsync
from django.db import connections

logger = logging.getLogger("hems.live.ingest")


async def run_ingest() -> None:
    from hems.live.runner import Runner
    from hems.live.subscriber import Subscriber

    subscriber = Subscriber(client_id="hems-ingest-embedded")
    runner = Runner(subscriber)
    # One thread of its own: one database connection, closed when the ingest stops.
    thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hems-ingest")
    step = DatabaseSyncToAsync(runner.step_once, thread_sensitive=False, executor=thread)
    await DatabaseSyncToAsync(runner.warm, thread_sensitive=False, executor=thread)()
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
        await asyncio.wrap_future(thread.submit(connections.close_all))
        thread.shutdown(wait=False)
