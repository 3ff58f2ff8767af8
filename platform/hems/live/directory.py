"""The ingest's authenticate step: which device a topic's login belongs to.

The broker lets a login publish only under its own topics (hems.live.broker's ACL), so
the login in a topic is the publisher's. This maps logins to devices from the database,
one query per batch for the logins not cached yet; a login a write refuses (its device
deleted, or no longer live) is forgotten and looked up again, and an unknown one is
remembered as unknown for ``negative_seconds`` so a stream of them costs no queries.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from hems.live.steps import Refused

UNKNOWN_LOGIN = "unknown device"


@dataclass(frozen=True)
class Entry:
    device_id: int
    kind_key: str


def lookup(usernames: list[str]) -> dict[str, Entry]:
    """The devices behind these logins: one query."""
    from hems.devices.models import DeviceCredentials

    rows = DeviceCredentials.objects.filter(username__in=usernames).values_list("username", "device_id", "device__kind")
    return {username: Entry(device_id, kind) for username, device_id, kind in rows}


class Directory:
    def __init__(self, negative_seconds: float = 30.0, clock: Callable[[], float] = time.monotonic, source=lookup):
        self.known: dict[str, Entry] = {}
        self.login_of: dict[int, str] = {}
        self.unknown: dict[str, float] = {}  # login -> when it was found unknown
        self.negative_seconds = negative_seconds
        self.clock = clock
        self.source = source
        self.queries = 0

    def resolve(self, usernames: Iterable[str]) -> None:
        """Look up, in one query, those of ``usernames`` not known (may raise a database error)."""
        now = self.clock()
        missing = sorted(
            {
                name
                for name in usernames
                if name not in self.known and now - self.unknown.get(name, -1e18) > self.negative_seconds
            }
        )
        if not missing:
            return
        found = self.source(missing)
        self.queries += 1
        self.known.update(found)
        self.login_of.update((entry.device_id, name) for name, entry in found.items())
        for name in missing:
            if name not in found:
                self.unknown[name] = now
            else:
                self.unknown.pop(name, None)

    def load_all(self, chunk: int = 20_000) -> int:
        """Every live device's login at once (one streamed query), so that a fleet's first
        minute costs no lookups; those added later are looked up as they appear."""
        from hems.devices.models import DeviceCredentials
        from hems.sdk.types import Source

        rows = DeviceCredentials.objects.filter(device__source=Source.LIVE).values_list(
            "username", "device_id", "device__kind"
        )
        for username, device_id, kind in rows.iterator(chunk_size=chunk):
            self.known[username] = Entry(device_id, kind)
            self.login_of[device_id] = username
        self.queries += 1
        return len(self.known)

    def entry(self, username: str) -> Entry:
        """The device of a login resolved before, or :class:`Refused` (unknown device)."""
        try:
            return self.known[username]
        except KeyError:
            raise Refused(UNKNOWN_LOGIN, username) from None

    def forget(self, device_ids: Iterable[int]) -> None:
        """Drop the logins of these devices (a write refused them): looked up again next time."""
        for device_id in device_ids:
            name = self.login_of.pop(int(device_id), None)
            if name is not None:
                self.known.pop(name, None)
