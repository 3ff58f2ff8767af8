"""A connection's "something changed" signal, coalescing bursts of changes."""

from __future__ import annotations

import asyncio


class Changes:
    """A version counter bumped by each published change of the connection's owner.

    Subscriptions remember the version they last read at and wait for a newer one: ten
    changes during one read wake them once, and they read the latest state, never an
    intermediate one. Nothing is queued per change, so a burst costs no memory.
    """

    def __init__(self) -> None:
        self.version = 0
        self._event = asyncio.Event()

    def notify(self) -> None:
        self.version += 1
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait(self, seen: int) -> int:
        """Return once the version is newer than ``seen``; the version then."""
        while self.version <= seen:
            await self._event.wait()
        return self.version
