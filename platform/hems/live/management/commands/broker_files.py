"""``manage.py broker_files``: write the MQTT broker's password and ACL files from the
database now (``bin/hems migrate`` does, so the broker finds them at its first start)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from hems.live import broker


class Command(BaseCommand):
    help = "Write HEMS_MQTT_PASSWORD_FILE and HEMS_MQTT_ACL_FILE from the database and signal the broker."

    def handle(self, *args, **options):
        if not settings.HEMS_MQTT_PASSWORD_FILE:
            raise CommandError("HEMS_MQTT_PASSWORD_FILE is not set: there is no broker file to write")
        broker.sync()
        self.stdout.write(f"Wrote {settings.HEMS_MQTT_PASSWORD_FILE} and {settings.HEMS_MQTT_ACL_FILE or 'no ACL'}.")
