"""hems: an open, plugin-based home energy management backend."""

# The Celery app is made with the package (Celery's pattern for Django), so every Django
# process has it as its current app: a task published outside the worker (the admin's
# "Run selected tasks" of django-celery-beat, `manage.py shell`) goes to hems's broker
# and queue, or runs in place in the embedded mode, not to Celery's default AMQP broker.
from hems.celery import app as celery_app

__all__ = ["celery_app"]
__version__ = "0.1.0"
