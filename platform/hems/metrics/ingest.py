"""The ingest's figures: live devices' messages accepted and dropped, by reason."""

from __future__ import annotations

import re

from hems.metrics import definitions as m

ACCEPTED = "accepted"
DROPPED = "dropped"
NONE = "none"
_NOT_LABEL = re.compile(r"[^a-z0-9]+")


def reason_label(reason: str) -> str:
    """A reason as a label value: lower case words joined by underscores, at most 48
    characters ("dropped: database unavailable" -> "database_unavailable")."""
    words = _NOT_LABEL.sub("_", reason.lower()).strip("_")
    words = words.removeprefix(DROPPED + "_") if words != DROPPED else words
    return words[:48].strip("_") or NONE


def ingest_message(outcome: str, reason: str = "", count: int = 1) -> None:
    """Count ``count`` messages of the ingest: ``outcome`` is ``"accepted"`` (``reason``
    empty) or ``"dropped"`` with the reason it was dropped for, one of a fixed set the
    ingest defines (never a value a device sent: each distinct reason is a time series)."""
    if outcome not in (ACCEPTED, DROPPED):
        raise ValueError(f"outcome must be {ACCEPTED!r} or {DROPPED!r}, not {outcome!r}")
    if count > 0:
        m.INGEST_MESSAGES.labels(outcome, reason_label(reason) if reason else NONE).inc(count)
