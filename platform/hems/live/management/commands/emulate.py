"""``manage.py emulate --homes N``: an emulated fleet publishing live telemetry over MQTT
(hems.live.emulator; docs/live-devices.md, "The emulator")."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from hems.live.emulator import Emulator

PER_DEVICE_LIMIT = 500  # connections: beyond this, --shared


def emulated_owners(homes: int, prefix: str, devices_per_home: int, seed_value: int) -> list[int]:
    """The first ``homes`` users named ``<prefix>N`` that have devices; seeded when missing."""
    from hems.simulation.seeding import seed

    users = get_user_model().objects.filter(username__regex=rf"^{prefix}[0-9]+$", devices__isnull=False)
    owners = list(users.distinct().order_by("pk").values_list("pk", flat=True)[:homes])
    if len(owners) < homes:
        seed(homes - len(owners), devices_per_home, prefix=prefix, seed_value=seed_value)
        owners = list(users.distinct().order_by("pk").values_list("pk", flat=True)[:homes])
    return owners


class Command(BaseCommand):
    help = "Run the drivers' physics for N homes and publish it as their live devices' telemetry over MQTT."

    def add_arguments(self, parser):
        parser.add_argument("--homes", type=int, required=True)
        parser.add_argument("--prefix", default="emu", help="the emulated homes' users: <prefix>N (seeded if missing)")
        parser.add_argument("--devices-per-home", type=int, default=6)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--start", type=datetime.fromisoformat, default=None, help="first instant, ISO 8601 with offset (now)"
        )
        parser.add_argument("--step", type=float, default=60.0, help="simulated seconds per step (default 60)")
        parser.add_argument(
            "--speed", type=float, default=1.0, help="simulated seconds per real second (0: at once, never past now)"
        )
        parser.add_argument("--steps", type=int, default=None, help="stop after this many steps (default: never)")
        parser.add_argument(
            "--shared", action="store_true", help="one connection as the emulator (HEMS_MQTT_EMULATOR_PASSWORD)"
        )

    def handle(self, *args, homes, prefix, devices_per_home, seed, start, step, speed, steps, shared, **options):
        if homes < 1 or step <= 0 or speed < 0:
            raise CommandError("--homes must be at least 1, --step positive and --speed not negative")
        if shared and not settings.HEMS_MQTT_EMULATOR_PASSWORD:
            raise CommandError("--shared needs HEMS_MQTT_EMULATOR_PASSWORD (and the broker's files written with it)")
        if start is not None and start.tzinfo is None:
            raise CommandError("--start needs a UTC offset, e.g. 2026-06-22T10:00:00+00:00")
        owners = emulated_owners(homes, prefix, devices_per_home, seed)
        emulator = Emulator(owners, start=start or timezone.now().replace(microsecond=0), step_seconds=step)
        if not shared and len(emulator.device_ids) > PER_DEVICE_LIMIT:
            raise CommandError(f"{len(emulator.device_ids)} devices: use --shared beyond {PER_DEVICE_LIMIT}")
        emulator.go_live(shared=shared)
        self.stdout.write(f"Emulating {len(owners)} home(s), {len(emulator.device_ids)} live device(s).")
        try:
            done = 0
            while True:
                began = time.monotonic()
                sent = emulator.publish_state()
                self.stdout.write(f"{emulator.instant.isoformat()}: {sent} report(s) published", ending="\n")
                done += 1
                if steps is not None and done > steps:
                    return
                emulator.advance()
                pause = step / speed - (time.monotonic() - began) if speed else 0.0
                ahead = (emulator.instant - timezone.now()) / timedelta(seconds=1)  # never report the future
                if max(pause, ahead) > 0:
                    time.sleep(max(pause, ahead))
        except KeyboardInterrupt:
            pass
        finally:
            emulator.close()
