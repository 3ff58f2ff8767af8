"""A counter per block of 16 owners (owner id // 16) that every change to one of their
devices or homes moves, kept by PostgreSQL itself (statement-level triggers with
transition tables: one statement per changing statement, none per row). The tick reads
a shard's counters, about 160 rows of an index, before its exact version, an aggregate
over the shard's 125,000 device rows, and computes that only when the counters moved
(``loader.owner_version``). Blocks, not owners: a counter must never move back, so its
row outlives the owners it counts, and a row per block names no one (erasing a user
leaves no row of theirs).

Only PostgreSQL: the embedded SQLite mode's loader keeps no configuration between
ticks. Reversing drops the triggers, the function and the table.
"""

from django.db import migrations

TABLES = ("hems_device", "hems_home")

FUNCTION = """
CREATE FUNCTION hems_bump_owner_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A TRUNCATE has no rows to name: every counter moves (they only ever grow, so no
    -- shard's counters can come back to a value a process has cached).
    IF TG_OP = 'TRUNCATE' THEN
        UPDATE hems_owner_version SET version = version + 1;
        RETURN NULL;
    END IF;
    -- Blocks in order, so that two statements bumping the same blocks lock them in the
    -- same order.
    IF TG_OP = 'INSERT' THEN
        INSERT INTO hems_owner_version (block, version)
        SELECT owner_id / 16, count(*) FROM new_rows GROUP BY 1 ORDER BY 1
        ON CONFLICT (block) DO UPDATE SET version = hems_owner_version.version + EXCLUDED.version;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO hems_owner_version (block, version)
        SELECT owner_id / 16, count(*) FROM old_rows GROUP BY 1 ORDER BY 1
        ON CONFLICT (block) DO UPDATE SET version = hems_owner_version.version + EXCLUDED.version;
    ELSE
        INSERT INTO hems_owner_version (block, version)
        SELECT owner_id / 16, count(*) FROM (
            SELECT owner_id FROM new_rows UNION ALL SELECT owner_id FROM old_rows
        ) changed GROUP BY 1 ORDER BY 1
        ON CONFLICT (block) DO UPDATE SET version = hems_owner_version.version + EXCLUDED.version;
    END IF;
    RETURN NULL;
END
$$
"""

TRANSITIONS = {
    "insert": "REFERENCING NEW TABLE AS new_rows",
    "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "REFERENCING OLD TABLE AS old_rows",
}


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE TABLE hems_owner_version (block bigint PRIMARY KEY, version bigint NOT NULL) "
        "WITH (fillfactor = 70)"  # bumped in place: room for HOT updates
    )
    # Every owner there is now has a counter, so that a TRUNCATE moves its shard's.
    schema_editor.execute(
        "INSERT INTO hems_owner_version (block, version) SELECT DISTINCT owner_id / 16, 1 "
        "FROM (SELECT owner_id FROM hems_device UNION SELECT owner_id FROM hems_home) owners"
    )
    schema_editor.execute(FUNCTION)
    # A trigger with transition tables takes one event only.
    for table in TABLES:
        for event, transition in TRANSITIONS.items():
            schema_editor.execute(
                f"CREATE TRIGGER {table}_owner_version_{event} AFTER {event.upper()} ON {table} "
                f"{transition} FOR EACH STATEMENT EXECUTE FUNCTION hems_bump_owner_versions()"
            )
        schema_editor.execute(
            f"CREATE TRIGGER {table}_owner_version_truncate AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION hems_bump_owner_versions()"
        )


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        for event in (*TRANSITIONS, "truncate"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_owner_version_{event} ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS hems_bump_owner_versions()")
    schema_editor.execute("DROP TABLE IF EXISTS hems_owner_version")


class Migration(migrations.Migration):
    dependencies = [("simulation", "0005_history_rollup"), ("devices", "0005_live_devices")]
    operations = [migrations.RunPython(forward, backward, elidable=False)]
