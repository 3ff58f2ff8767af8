"""A storage device's level at the end of each hour (Wh) in the hourly device history:
NULL for devices without storage and for the hours recorded before this migration.

On PostgreSQL it is added to the partitioned parent, so every daily partition has it,
and those created later. Nullable without a default: a catalogue change, whatever the
size of the table. No CHECK: validating one would read every partition, and the level
written is the device state's, already held within [0, capacity]. SQLite reads the
type as REAL.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("simulation", "0003_device_energy")]
    operations = [
        migrations.RunSQL(
            "ALTER TABLE hems_device_energy ADD COLUMN level_wh double precision",
            "ALTER TABLE hems_device_energy DROP COLUMN level_wh",
            elidable=False,
        )
    ]
