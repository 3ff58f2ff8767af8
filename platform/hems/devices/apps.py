from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DevicesConfig(AppConfig):
    name = "hems.devices"
    label = "devices"
    verbose_name = "Devices"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from hems.devices import orphans, signals  # noqa: F401  (connect their signal receivers)
        from hems.devices.catalogue import sync_kinds

        # Any migrate or flush refreshes the catalogue of kinds the database accepts.
        post_migrate.connect(sync_kinds, dispatch_uid="hems.devices.sync_kinds")
