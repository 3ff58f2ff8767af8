from django.db import migrations

from hems.simulation.history import CREATE_DEVICE_OTHER, CREATE_DEVICE_POSTGRES


def create(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    schema_editor.execute(CREATE_DEVICE_POSTGRES if postgres else CREATE_DEVICE_OTHER)


def drop(apps, schema_editor):
    schema_editor.execute("DROP TABLE IF EXISTS hems_device_energy")


class Migration(migrations.Migration):
    dependencies = [("simulation", "0002_register_tick")]
    operations = [migrations.RunPython(create, drop, elidable=False)]
