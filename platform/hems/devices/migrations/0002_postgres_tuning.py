"""What only PostgreSQL holds: the kind foreign key and the state table's fillfactor.

On other databases (the embedded SQLite mode) model validation alone guards the
kind, and the state table has no storage parameters to tune.
"""

from django.db import migrations

FORWARD = [
    # A device's kind must be a catalogued kind, with that kind's device type.
    """ALTER TABLE hems_device ADD CONSTRAINT hems_device_kind_known
       FOREIGN KEY (kind, device_type) REFERENCES hems_device_kind (key, device_type)
       ON UPDATE CASCADE DEFERRABLE INITIALLY IMMEDIATE""",
    # Leave a third of every page free, so that the tick's per-minute rewrite of each
    # row stays on its page as a HOT update (no index touches the rewritten columns).
    "ALTER TABLE hems_device_state SET (fillfactor = 70)",
]
BACKWARD = [
    "ALTER TABLE hems_device_state RESET (fillfactor)",
    "ALTER TABLE hems_device DROP CONSTRAINT IF EXISTS hems_device_kind_known",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in FORWARD:
            schema_editor.execute(sql)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in BACKWARD:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("devices", "0001_initial")]
    operations = [migrations.RunPython(forward, backward, elidable=False)]
