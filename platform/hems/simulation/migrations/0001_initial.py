from django.db import migrations, models

from hems.simulation.history import CREATE_OTHER, CREATE_POSTGRES


def create_history(apps, schema_editor):
    schema_editor.execute(CREATE_POSTGRES if schema_editor.connection.vendor == "postgresql" else CREATE_OTHER)


def drop_history(apps, schema_editor):
    schema_editor.execute("DROP TABLE IF EXISTS hems_home_energy")


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="TickShard",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("instant", models.DateTimeField()),
                ("shard", models.IntegerField()),
                ("devices", models.IntegerField(default=0)),
                ("finished_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "db_table": "hems_tick_shard",
                "constraints": [models.UniqueConstraint(fields=("instant", "shard"), name="hems_tick_shard_once")],
            },
        ),
        migrations.CreateModel(
            name="HomeEnergy",
            fields=[
                ("pk", models.CompositePrimaryKey("owner_id", "period_start", blank=True, editable=False, primary_key=True, serialize=False)),
                ("owner_id", models.BigIntegerField()),
                ("period_start", models.DateTimeField()),
                ("period_end", models.DateTimeField()),
                ("production_wh", models.FloatField()),
                ("consumption_wh", models.FloatField()),
                ("storage_charge_wh", models.FloatField()),
                ("storage_discharge_wh", models.FloatField()),
                ("grid_import_wh", models.FloatField()),
                ("grid_export_wh", models.FloatField()),
            ],
            options={"db_table": "hems_home_energy", "managed": False},
        ),
        migrations.RunPython(create_history, drop_history, elidable=False),
    ]
