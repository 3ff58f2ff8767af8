"""``manage.py ticker``: the tick every minute in this process (the embedded mode)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from hems.simulation import ticker


class Command(BaseCommand):
    help = (
        "Run the simulation tick every minute in this process, the first one now: the embedded mode's "
        "scheduler, in place of Celery beat, a broker and a worker. Ctrl-C stops it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--ticks", type=int, help="stop after this many ticks (default: run until stopped)")

    def handle(self, *args, ticks=None, **options):
        if ticks is not None and ticks < 1:
            raise CommandError("--ticks must be at least 1")
        self.stdout.write("Ticking every minute; Ctrl-C stops.")
        try:
            ticker.run(ticks)
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")
