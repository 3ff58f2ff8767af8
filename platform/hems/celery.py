"""The Celery application: ``celery -A hems worker`` and ``celery -A hems beat``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hems.settings")

app = Celery("hems")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
