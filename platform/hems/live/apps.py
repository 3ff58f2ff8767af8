from django.apps import AppConfig


class LiveConfig(AppConfig):
    """Live devices' processes (``manage.py ingest``, ``manage.py emulate``); their models
    live in hems.devices."""

    name = "hems.live"
    label = "live"
    default_auto_field = "django.db.models.BigAutoField"
