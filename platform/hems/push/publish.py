"""Publishing "owner N changed" to the channel layer, one group per owner."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from asgiref.sync import async_to_sync

from hems.push import layer, presence

logger = logging.getLogger("hems.push")

GROUP_PREFIX = "hems.owner."
# The message carries no data: a subscriber reads the latest state itself, so a burst of
# changes costs it one read (coalescing) and no owner's data ever travels on the layer.
CHANGED = {"type": "owner.changed"}


def group_name(owner_id: int) -> str:
    """The channel-layer group a subscriber of ``owner_id`` joins."""
    return f"{GROUP_PREFIX}{int(owner_id)}"


def _groups(owner_ids: Iterable[int]) -> list[str]:
    ids = sorted({int(owner_id) for owner_id in owner_ids})
    return [group_name(owner_id) for owner_id in presence.subscribed(ids)] if ids else []


def publish_changes(owner_ids: Iterable[int]) -> None:
    """Tell subscribers that these owners' stats or devices changed and are committed.

    Call it after the commit, from sync code (the tick, an ingest batch). Cheap (one
    Redis round trip, plus one send per owner someone subscribes to), safe with no
    subscribers and without a channel layer; it never raises: push is a convenience,
    the data is stored either way, so a failure is only logged.
    """
    try:
        groups = _groups(owner_ids)
        if groups:
            async_to_sync(layer.send_to_groups)(groups, CHANGED)
    except Exception:
        logger.exception("push: could not publish a change")


async def apublish_changes(owner_ids: Iterable[int]) -> None:
    """:func:`publish_changes` for async code (an async view or consumer)."""
    from channels.db import database_sync_to_async

    try:
        groups = await database_sync_to_async(_groups)(list(owner_ids))
        if groups:
            await layer.send_to_groups(groups, CHANGED)
    except Exception:
        logger.exception("push: could not publish a change")
