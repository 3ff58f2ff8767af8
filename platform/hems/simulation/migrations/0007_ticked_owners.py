"""The latest tick applied to each range of owners (``TickedOwners``): the tick then
rewrites only the state rows whose state changed."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("simulation", "0006_owner_versions")]

    operations = [
        migrations.CreateModel(
            name="TickedOwners",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("owner_lo", models.BigIntegerField()),
                ("owner_hi", models.BigIntegerField()),
                ("instant", models.DateTimeField()),
            ],
            options={"db_table": "hems_ticked_owners"},
        ),
        migrations.AddConstraint(
            model_name="tickedowners",
            constraint=models.UniqueConstraint(fields=("owner_lo", "owner_hi"), name="hems_ticked_owners_range"),
        ),
    ]
