"""``manage.py simulate``: run the tick now, at an instant, or over a range (backfill)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from hems.simulation.tick import minute_of, run_tick


def instant(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise CommandError(f"{value!r} is not an ISO 8601 instant (e.g. 2026-06-21T12:00:00Z)") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = "Run the simulation tick synchronously, through the same code as the Celery task."

    def add_arguments(self, parser):
        parser.add_argument("--at", type=instant, help="the tick's instant (default: this minute)")
        parser.add_argument("--from", dest="start", type=instant, help="replay ticks from this instant...")
        parser.add_argument("--to", dest="end", type=instant, help="...up to and including this one")
        parser.add_argument("--step", type=int, default=60, help="seconds between replayed ticks (default 60)")

    def handle(self, *args, at=None, start=None, end=None, step=60, verbosity=1, **options):
        if (start is None) != (end is None):
            raise CommandError("--from and --to go together")
        if at is not None and start is not None:
            raise CommandError("give either --at or --from/--to")
        if step < 60 or step % 60:
            raise CommandError("--step must be a whole number of minutes (60, 120, ...)")
        if start is None:
            reports = run_tick(at or timezone.now())
            self._summary(reports)
            return
        first, last = minute_of(start), minute_of(end)
        if last < first:
            raise CommandError("--to is before --from")
        count = int((last - first).total_seconds() // step) + 1
        devices = 0
        with tqdm(total=count, unit="tick", disable=verbosity == 0) as bar:
            for i in range(count):
                reports = run_tick(first + timedelta(seconds=step * i))
                devices += sum(r.devices for r in reports)
                bar.set_postfix(devices=devices)
                bar.update()
        self.stdout.write(f"{count} tick(s) from {first.isoformat()} to {last.isoformat()}: {devices} device updates.")

    def _summary(self, reports):
        applied = [r for r in reports if r.applied]
        devices = sum(r.devices for r in applied)
        seconds = sum(r.seconds.get("total", 0.0) for r in applied)
        when = reports[0].instant.isoformat() if reports else "-"
        self.stdout.write(
            f"tick {when}: {len(applied)}/{len(reports)} shard(s) applied, {devices} devices, {seconds:.3f}s"
        )
