"""Deleting a device whose driver is missing.

A kind's own row (multi-table inheritance) lives in its driver's table, which
references ``hems_device``. While the driver is installed Django deletes that row
first; once it is gone Django no longer knows the table, and the database would
refuse to delete the device. So, for devices of kinds no installed driver provides,
the rows referencing them from tables no installed model owns are deleted first.
"""

from __future__ import annotations

from django.apps import apps
from django.db import connections
from django.db.models.signals import pre_delete
from django.dispatch import receiver

from hems.devices.models import Device


def unknown_references(using: str) -> list[tuple[str, str]]:
    """(table, column) of every foreign key to ``hems_device`` from a table that no
    installed model owns: the tables of missing drivers' kinds."""
    connection = connections[using]
    known = {model._meta.db_table for model in apps.get_models(include_auto_created=True)}
    device_table = Device._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                """
                SELECT c.conrelid::regclass::text, a.attname
                FROM pg_constraint c
                JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
                WHERE c.contype = 'f' AND c.confrelid = %s::regclass AND cardinality(c.conkey) = 1
                """,
                [device_table],
            )
            found = [(table.strip('"'), column) for table, column in cursor.fetchall()]
        else:
            found = [
                (table, column)
                for table in connection.introspection.table_names(cursor)
                if table not in known
                for column, (_, target) in connection.introspection.get_relations(cursor, table).items()
                if target == device_table
            ]
    return [(table, column) for table, column in found if table not in known]


@receiver(pre_delete, sender=Device, dispatch_uid="hems.devices.delete_orphan_kind_rows")
def delete_orphan_kind_rows(sender, instance: Device, using: str, **kwargs) -> None:
    from hems.plugins import registry

    if instance.kind in registry().kinds:
        return
    connection = connections[using]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table, column in unknown_references(using):
            cursor.execute(f"DELETE FROM {quote(table)} WHERE {quote(column)} = %s", [instance.pk])
