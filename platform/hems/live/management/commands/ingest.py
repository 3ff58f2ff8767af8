"""``manage.py ingest``: the live devices' ingest process (``bin/hems ingest``)."""

from __future__ import annotations

import logging
import signal
import socket

from django.conf import settings
from django.core.management.base import BaseCommand

from hems.live.runner import Runner
from hems.live.subscriber import Subscriber
from hems.metrics import start_exporter


class Command(BaseCommand):
    help = "Receive live devices' reports over MQTT and write them in batches (docs/live-devices.md)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--client-id",
            default=f"hems-ingest-{socket.gethostname()}",
            help="the MQTT client id: the broker keeps this session's messages while the process is down",
        )
        parser.add_argument(
            "--share", default="", help="subscribe as a member of this MQTT shared subscription group ($share/...)"
        )
        parser.add_argument("--status-file", default="", help="write the counters here as JSON, twice a second")
        parser.add_argument("--batch-size", type=int, default=None)
        parser.add_argument("--batch-seconds", type=float, default=None)
        parser.add_argument("--buffer", type=int, default=None, help="messages held while the database is down")

    def handle(self, *args, client_id, share, status_file, batch_size, batch_seconds, buffer, verbosity=1, **options):
        logging.getLogger("hems.live").setLevel(logging.DEBUG if verbosity > 2 else logging.INFO)
        if not logging.getLogger().handlers:
            logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        runner = None

        def stop(signum, frame):
            if runner is not None:
                runner.stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        limit = buffer or settings.HEMS_INGEST_BUFFER
        subscriber = Subscriber(client_id=client_id, share=share)
        runner = Runner(subscriber, batch_size=batch_size, batch_seconds=batch_seconds, buffer=limit,
                        status_file=status_file)  # fmt: skip
        start_exporter(settings.HEMS_METRICS_INGEST_ADDRESS)  # hems_ingest_messages_total (docs/operations.md)
        runner.warm()  # every login known before the first message
        subscriber.start()
        try:
            runner.run()
        finally:
            subscriber.stop()
