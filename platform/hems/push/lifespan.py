"""The ASGI lifespan of the web process: the embedded mode's ticker runs inside it.

The embedded mode has no Redis, so the tick's "changed" message can only reach the
subscribers of the process that runs it: `bin/hems all` then runs one web process with
the ticker as a task of its event loop (HEMS_TICK_IN_WEB), each tick in a worker thread,
publishing on the in-memory channel layer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from channels.db import DatabaseSyncToAsync
from django.conf import settings
from django.utils import timezone

from hems.simulation import ticker

logger = logging.getLogger("hems.simulation")


async def run_ticker() -> None:
    """The ticker's loop (hems.simulation.ticker.run) on this event loop."""
    tick_once = DatabaseSyncToAsync(ticker.tick_once, thread_sensitive=False)
    last = None
    logger.info("ticker: the tick runs every minute in this web process")
    while True:
        try:
            last = await tick_once(timezone.now(), last)
        except Exception:  # tick_once logs database errors itself; anything else must not stop the loop
            logger.exception("ticker: the tick failed")
        await asyncio.sleep(ticker.seconds_to_next_minute(timezone.now()) + 0.05)


async def lifespan(scope, receive, send) -> None:
    tasks = []
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if settings.HEMS_TICK_IN_WEB:
                tasks.append(asyncio.ensure_future(run_ticker()))
            if settings.HEMS_INGEST_IN_WEB:  # the live devices' ingest, the same way (hems.live.embedded)
                from hems.live.embedded import run_ingest

                tasks.append(asyncio.ensure_future(run_ingest()))
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await send({"type": "lifespan.shutdown.complete"})
            return
