"""The caller's devices for a listing (``allDevices``): one query, compiled once.

``Device.objects.with_kinds()`` joins the live state and every kind's table; Django
compiling that query (a dozen joins, some eighty columns) costs more than PostgreSQL
running it. Its text differs between callers only by the owner, so it is compiled once
per database and set of kinds (:mod:`hems.compiled`), and each listing runs it with
its owner, planned as written (:mod:`hems.api.devices.plan`) in the same round trip.
"""

from __future__ import annotations

from contextlib import nullcontext

from django.db import DEFAULT_DB_ALIAS

from hems.api.devices.plan import as_written_before, joins_as_written
from hems.compiled import CompiledQuery
from hems.devices.models import Device


def _kinds() -> tuple:
    from hems.plugins import registry

    return tuple(kind.model for kind in registry().kinds.values())


# -1 stands for the owner while the query is compiled: its one parameter.
LISTING = CompiledQuery(lambda owner: Device.objects.with_kinds().filter(owner_id=owner), (-1,), key=_kinds)


def devices_of(owner_id: int, alias: str = DEFAULT_DB_ALIAS) -> list[Device]:
    """The owner's devices, newest first, with their live state and kind's row loaded:
    what ``list(Device.objects.with_kinds().owned_by(owner))`` answers, in one query."""
    before = as_written_before(alias)
    with nullcontext() if before else joins_as_written():
        return LISTING.run((owner_id,), alias, before=before)
