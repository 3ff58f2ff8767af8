"""The embedded mode's ingest: started by the web process's ASGI lifespan when
HEMS_INGEST_IN_WEB is on (as `bin/hems all` sets it without Redis), it takes a report
published to a real Mosquitto in, and stops with the lifespan."""

from __future__ import annotations

import asyncio
import json
import shutil
import time

import pytest
from asgiref.sync import sync_to_async
from django.db import connections, transaction
from django.utils import timezone

from hems.devices.models import DeviceState
from hems.live import credentials
from hems.push.lifespan import lifespan
from hems.tests.factories import make_device
from hems.tests.live.processes import Broker
from hems.tests.live.test_ingest import kind_of
from hems.tests.live.test_ingest_process import publish_until_accepted

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("mosquitto_pub") is None, reason="mosquitto is not installed"),
]


def test_the_web_processs_lifespan_runs_the_ingest(tmp_path, settings, user):
    broker = Broker(tmp_path, settings)
    broker.start()
    settings.HEMS_TICK_IN_WEB = False
    settings.HEMS_INGEST_IN_WEB = True
    device = make_device(user, kind_of("production"), source="live")
    with transaction.atomic():
        login = credentials.rotate(device)

    def stored():
        try:
            return DeviceState.objects.get(pk=device.pk).power_w == 321.0
        finally:
            connections.close_all()  # this runs in asgiref's thread: leave no session behind

    async def scenario():
        inbox: asyncio.Queue = asyncio.Queue()
        sent: asyncio.Queue = asyncio.Queue()
        await inbox.put({"type": "lifespan.startup"})
        server = asyncio.ensure_future(lifespan({"type": "lifespan"}, inbox.get, sent.put))
        assert (await sent.get())["type"] == "lifespan.startup.complete"
        body = json.dumps({"time": timezone.now().isoformat(), "powerW": 321.0})
        deadline = time.monotonic() + 30
        while not await sync_to_async(stored)():  # published again until the ingest has subscribed
            assert time.monotonic() < deadline, "the report was not taken in"
            await asyncio.to_thread(publish_until_accepted, broker.port, login, body)
            body = json.dumps({"time": timezone.now().isoformat(), "powerW": 321.0})
            await asyncio.sleep(0.5)
        await inbox.put({"type": "lifespan.shutdown"})
        assert (await sent.get())["type"] == "lifespan.shutdown.complete"
        await server

    try:
        asyncio.run(scenario())
    finally:
        broker.stop()
    assert DeviceState.objects.get(pk=device.pk).reported_at is not None
