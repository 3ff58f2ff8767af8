import django.utils.timezone
from django.db import migrations, models


def copy_owners(apps, schema_editor):
    DeviceState = apps.get_model("devices", "DeviceState")
    Device = apps.get_model("devices", "Device")
    DeviceState.objects.update(
        owner_id=models.Subquery(Device.objects.filter(pk=models.OuterRef("device_id")).values("owner_id")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [("devices", "0003_state_hour_accumulators")]

    operations = [
        migrations.AddField(
            model_name="devicestate", name="owner_id", field=models.BigIntegerField(null=True)
        ),
        migrations.RunPython(copy_owners, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="devicestate", name="owner_id", field=models.BigIntegerField(db_index=True)
        ),
        migrations.AddField(
            model_name="home",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, default=django.utils.timezone.now),
            preserve_default=False,
        ),
        migrations.AddIndex(
            model_name="device",
            index=models.Index(fields=["owner"], include=["updated_at", "id"], name="hems_device_owner_version"),
        ),
    ]
