"""``manage.py simulate``: run the tick now, at an instant, or over a range (backfill)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from hems.simulation.progress import progress
from hems.simulation.tick import minute_of, run_tick


def live_state_instant() -> datetime | None:
    """The newest instant any device was simulated at: where the live state stands."""
    from django.db.models import Max

    from hems.devices.models import DeviceState
    from hems.simulation.models import TickedOwners

    newest = DeviceState.objects.aggregate(newest=Max("simulated_at"))["newest"]
    if newest is None:
        return None
    # A tick rewrites only the rows it changed: the latest tick counts as well.
    ticked = TickedOwners.objects.aggregate(newest=Max("instant"))["newest"]
    return newest if ticked is None else max(newest, ticked)


def refuse_the_past(first: datetime) -> None:
    """A tick older than the live state must not touch it (issue 11, item 16): its
    devices are already newer, but one added since would be stamped with the old
    instant (and the next live tick would book the capped gap into one minute)."""
    live = live_state_instant()
    if live is not None and first < live:
        raise CommandError(
            f"{first.isoformat()} is before the live state ({live.isoformat()}, the newest simulated device): "
            "ticks only run forward from it and never rewrite it. Replay from "
            f"{live.isoformat()} onwards, or backfill a database whose devices were never simulated."
        )


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
            refuse_the_past(minute_of(at or timezone.now()))
            reports = run_tick(at or timezone.now())
            self._summary(reports)
            return
        first, last = minute_of(start), minute_of(end)
        if last < first:
            raise CommandError("--to is before --from")
        refuse_the_past(first)
        count = int((last - first).total_seconds() // step) + 1
        devices = 0
        with progress(count, "tick", disable=verbosity == 0) as bar:
            for i in range(count):
                reports = run_tick(first + timedelta(seconds=step * i))
                devices += sum(r.devices for r in reports)
                bar.set_postfix(devices=devices, refresh=False)  # drawn at the bar's own pace
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
