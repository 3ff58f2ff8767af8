"""Shards running at once both find the month's partition missing: one creates it, the
other waits and uses it, and neither tick fails."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection, connections, transaction

from hems.simulation import history

pytestmark = pytest.mark.django_db(transaction=True)

FAR_MONTH = date(2031, 3, 14)  # no test creates partitions this far ahead


def blocked_on_a_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return row is not None and row[0] == "Lock"


def test_two_shards_creating_the_same_partition_both_succeed():
    created = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []
    pids: dict[str, int] = {}

    def first():
        try:
            with transaction.atomic():
                history.ensure_partitions(FAR_MONTH, FAR_MONTH, history.HOUR_TABLE)
                created.set()
                release.wait(30)  # still uncommitted while the second shard looks
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
            created.set()
        finally:
            connections.close_all()

    def second():
        try:
            created.wait(30)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pids["second"] = cursor.fetchone()[0]
            with transaction.atomic():
                history.ensure_partitions(FAR_MONTH, FAR_MONTH, history.HOUR_TABLE)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    created.wait(30)
    # Release the first once the second waits on it (or has failed without waiting).
    for _ in range(3000):
        if errors or ("second" in pids and blocked_on_a_lock(pids["second"])) or not threads[1].is_alive():
            break
        threading.Event().wait(0.01)
    release.set()
    for thread in threads:
        thread.join(30)
    assert errors == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [history.partition_name(FAR_MONTH, history.HOUR_TABLE)])
        assert cursor.fetchone()[0]
