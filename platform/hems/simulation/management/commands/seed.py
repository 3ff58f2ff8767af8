"""``manage.py seed --homes N --devices-per-home M``: realistic demo homes, in bulk."""

from django.core.management.base import BaseCommand, CommandError

from hems.simulation.progress import progress
from hems.simulation.seeding import seed


class Command(BaseCommand):
    help = "Create demo users, each with a home whose devices look like a real home's (bulk, with progress)."

    def add_arguments(self, parser):
        parser.add_argument("--homes", type=int, required=True)
        parser.add_argument("--devices-per-home", type=int, default=10)
        parser.add_argument(
            "--prefix",
            default="demo",
            help="username prefix: <prefix>N, numbered after the highest taken (demo1, demo2, ...)",
        )
        parser.add_argument("--password", default="demo-password-1", help="every demo user's password")
        parser.add_argument("--seed", type=int, default=1, help="random seed, for the same homes every time")

    def handle(self, *args, homes, devices_per_home, prefix, password, seed: int, verbosity=1, **options):
        if homes < 1 or devices_per_home < 0:
            raise CommandError("--homes must be at least 1 and --devices-per-home not negative")
        with progress(homes, "home", disable=verbosity == 0) as bar:
            report = seed_homes(homes, devices_per_home, prefix, password, seed, bar.update)
        names = report.first if report.users == 1 else f"{report.first}..{report.last}"
        self.stdout.write(
            f"Seeded {report.users} home(s) with {report.devices} device(s); log in as {names} / {password}."
        )


def seed_homes(homes, devices_per_home, prefix, password, seed_value, progress):
    return seed(homes, devices_per_home, prefix=prefix, password=password, seed_value=seed_value, progress=progress)
