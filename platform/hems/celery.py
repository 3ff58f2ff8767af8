"""The Celery application: ``celery -A hems worker`` and ``celery -A hems beat``.

``hems/__init__.py`` imports it, so it is the current app of every process that imports
hems (Django's included) and the tasks' ``shared_task`` bind to it, not to Celery's default.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hems.settings")

app = Celery("hems")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
