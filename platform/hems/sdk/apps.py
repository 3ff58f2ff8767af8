"""The AppConfig base every driver's ``apps.py`` uses."""

from __future__ import annotations

import logging
import traceback

from django.apps import AppConfig

logger = logging.getLogger("hems.drivers")


class DriverAppConfig(AppConfig):
    """A driver's Django app.

    Subclass it in the driver's ``apps.py``. A driver whose models fail to import
    (a bug, a missing dependency) is then skipped and reported by name, instead of
    stopping Django and every other driver with it.
    """

    # The base itself is never an app; Django picks the one subclass in apps.py.
    default = False
    default_auto_field = "django.db.models.BigAutoField"
    import_error: str | None = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "default" not in cls.__dict__:
            cls.default = True

    def import_models(self) -> None:
        try:
            super().import_models()
        except Exception as exc:
            self.import_error = f"{type(exc).__name__}: {exc}"
            self.models_module = None
            logger.error("driver app %r failed to import its models:\n%s", self.name, traceback.format_exc())
