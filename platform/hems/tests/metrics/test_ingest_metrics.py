"""The counter the ingest calls for each message (or batch) it accepts or drops."""

from __future__ import annotations

import pytest

from hems.metrics import ingest_message
from hems.metrics.ingest import reason_label
from hems.tests.metrics.samples import local

NAME = "hems_ingest_messages_total"


def test_accepted_and_dropped_messages_are_counted_by_reason():
    accepted = local(NAME, outcome="accepted", reason="none")
    down = local(NAME, outcome="dropped", reason="database_unavailable")
    ingest_message("accepted", count=2000)
    ingest_message("accepted")
    ingest_message("dropped", "dropped: database unavailable", count=3)
    ingest_message("dropped", "database unavailable")
    ingest_message("accepted", count=0)  # an empty batch
    assert local(NAME, outcome="accepted", reason="none") == accepted + 2001
    assert local(NAME, outcome="dropped", reason="database_unavailable") == down + 4


def test_an_unknown_outcome_is_a_programming_error():
    with pytest.raises(ValueError, match="accepted"):
        ingest_message("lost", "why")


@pytest.mark.parametrize(
    "reason, label",
    [
        ("dropped: database unavailable", "database_unavailable"),
        ("rate limited", "rate_limited"),
        ("Unknown device", "unknown_device"),
        ("!!!", "none"),
        ("x" * 200, "x" * 48),
    ],
)
def test_reasons_become_short_label_values(reason, label):
    assert reason_label(reason) == label
