"""Register the tick with django-celery-beat's database scheduler: every minute, at
the minute, so that nobody has to create it in the admin."""

from django.db import migrations

TASK = "hems.simulation.tasks.tick"
NAME = "hems: simulation tick"


def register(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = CrontabSchedule.objects.get_or_create(
        minute="*", hour="*", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    PeriodicTask.objects.update_or_create(
        name=NAME,
        defaults={
            "task": TASK,
            "crontab": every_minute,
            "interval": None,
            "enabled": True,
            "description": "Simulate every device and record the minute's energy (hems).",
            # A tick that could not start within its minute is left to the next one,
            # which integrates the real elapsed time: no burst of catch-up ticks.
            "expire_seconds": 55,
        },
    )
    maintenance, _ = CrontabSchedule.objects.get_or_create(
        minute="7", hour="0", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    PeriodicTask.objects.update_or_create(
        name="hems: history maintenance",
        defaults={
            "task": "hems.simulation.tasks.maintain_history",
            "crontab": maintenance,
            "interval": None,
            "enabled": True,
            "description": "Create the coming days' history partitions and drop expired ones.",
        },
    )


def unregister(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[NAME, "hems: history maintenance"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("simulation", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(register, unregister)]
