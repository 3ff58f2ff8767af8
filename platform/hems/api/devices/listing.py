"""The caller's devices for a listing (``allDevices``): one query, compiled once.

``Device.objects.with_kinds()`` joins the live state and every kind's table; Django
compiling that query (a dozen joins, some eighty columns) costs more than PostgreSQL
running it. Its text differs between callers only by the owner, so it is compiled once
per database and set of kinds, and each listing runs it with its owner and turns the
rows into models exactly as the queryset would (``ModelIterable``'s steps: converters,
the base row, each joined row).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.query import get_related_populators
from django.db.models.sql import Query

from hems.api.devices.plan import joins_as_written
from hems.devices.models import Device

# Stands for the owner while the query is compiled: its one parameter.
_OWNER = -1


@dataclass(frozen=True)
class CompiledListing:
    query: Query
    sql: str
    select: list
    klass_info: dict
    annotation_col_map: dict
    col_count: int
    init_list: list[str]
    base: slice
    populators: list  # Django's RelatedPopulator: no state of its own between rows


_compiled: dict[tuple, CompiledListing] = {}
_lock = threading.Lock()


def compile_listing(alias: str) -> CompiledListing:
    """Compile ``Device.objects.with_kinds().owned_by(<owner>)`` once."""
    query = Device.objects.with_kinds().filter(owner_id=_OWNER).query
    compiler = query.get_compiler(using=alias)
    sql, params = compiler.as_sql()
    if tuple(params) != (_OWNER,):
        raise RuntimeError(f"the devices' listing has parameters {params!r}, not just the owner")
    fields = compiler.klass_info["select_fields"]
    select = compiler.select
    return CompiledListing(
        query=query,
        sql=sql,
        select=select,
        klass_info=compiler.klass_info,
        annotation_col_map=compiler.annotation_col_map,
        col_count=compiler.col_count,
        init_list=[column[0].target.attname for column in select[fields[0] : fields[-1] + 1]],
        base=slice(fields[0], fields[-1] + 1),
        populators=get_related_populators(compiler.klass_info, select, alias),
    )


def compiled(alias: str) -> CompiledListing:
    from hems.plugins import registry

    key = (alias, tuple(kind.model for kind in registry().kinds.values()))
    listing = _compiled.get(key)
    if listing is None:
        with _lock:
            listing = _compiled.get(key) or compile_listing(alias)
            _compiled[key] = listing
    return listing


def devices_of(owner_id: int, alias: str = DEFAULT_DB_ALIAS) -> list[Device]:
    """The owner's devices, newest first, with their live state and kind's row loaded:
    what ``list(Device.objects.with_kinds().owned_by(owner))`` answers, in one query."""
    listing = compiled(alias)
    # A compiler of this thread's connection, for its converters; the SQL is the one kept.
    compiler = listing.query.get_compiler(using=alias)
    compiler.select, compiler.klass_info = listing.select, listing.klass_info
    compiler.annotation_col_map, compiler.col_count = listing.annotation_col_map, listing.col_count
    with joins_as_written(), connections[alias].cursor() as cursor:
        cursor.execute(listing.sql, (owner_id,))
        rows = cursor.fetchall()
    devices = []
    for row in compiler.results_iter([rows]):
        device = Device.from_db(alias, listing.init_list, row[listing.base])
        for populator in listing.populators:
            populator.populate(row, device)
        devices.append(device)
    return devices
