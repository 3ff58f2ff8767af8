"""A tick and a live report batch on the same owners never interleave (the batch would
be overwritten, its energy counted twice), on whichever hosts they run: the lock keys
are blocks of owners, the same whatever each host's HEMS_TICK_HOMES_PER_SHARD."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import OperationalError, connection, transaction
from django.test import override_settings

from hems.simulation import shardlock
from hems.simulation.tick import shard_bounds, shard_of
from hems.tests.factories import kind_keys, make_device

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def device(user):
    return make_device(user, kind_keys()[0])


def waits(step: Callable[[], None], **settings) -> bool:
    """Whether ``step``, in a transaction on a connection of its own (another host's) with
    ``settings``, waits for a lock held here: it gives up after 300 ms."""
    outcome: dict[str, bool] = {}

    def other_host():
        try:
            with override_settings(**settings), transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '300ms'")
                step()
            outcome["waited"] = False
        except OperationalError as error:
            outcome["waited"] = "lock timeout" in str(error)
        finally:
            connection.close()

    thread = threading.Thread(target=other_host)
    thread.start()
    thread.join(timeout=30)
    return outcome["waited"]


def tick_lock(owner_id: int) -> None:
    """What a tick takes for the shard holding ``owner_id``, by the current setting."""
    lo, hi = shard_bounds(shard_of(owner_id))
    shardlock.lock_for_tick(lo, hi)


@pytest.mark.parametrize(("tick_size", "ingest_size"), [(2500, 2500), (2500, 1), (3, 2500), (16, 40)])
def test_a_report_batch_waits_for_the_tick_on_its_owner_whatever_each_host_shard_size(device, tick_size, ingest_size):
    with override_settings(HEMS_TICK_HOMES_PER_SHARD=tick_size), transaction.atomic():
        tick_lock(device.owner_id)
        assert waits(lambda: shardlock.lock_for_devices([device.pk]), HEMS_TICK_HOMES_PER_SHARD=ingest_size)
    # Committed: the batch goes ahead.
    assert not waits(lambda: shardlock.lock_for_devices([device.pk]), HEMS_TICK_HOMES_PER_SHARD=ingest_size)


@pytest.mark.parametrize(("tick_size", "ingest_size"), [(2500, 2500), (1, 2500), (2500, 7)])
def test_a_tick_waits_for_a_report_batch_in_flight_and_batches_do_not_wait_for_each_other(
    device, tick_size, ingest_size
):
    with override_settings(HEMS_TICK_HOMES_PER_SHARD=ingest_size), transaction.atomic():
        shardlock.lock_for_devices([device.pk])
        assert waits(lambda: shardlock.lock_for_devices([device.pk]), HEMS_TICK_HOMES_PER_SHARD=ingest_size) is False
        assert waits(lambda: tick_lock(device.owner_id), HEMS_TICK_HOMES_PER_SHARD=tick_size)
    assert not waits(lambda: tick_lock(device.owner_id), HEMS_TICK_HOMES_PER_SHARD=tick_size)


def test_a_tick_on_other_owners_does_not_wait(device):
    block = shardlock.block_of(device.owner_id)
    with transaction.atomic():
        shardlock.lock_for_devices([device.pk])
        # The blocks on either side of the device's owner's: each a tick of its own.
        before = (max(0, block - 1) * shardlock.BLOCK, block * shardlock.BLOCK)
        after = ((block + 1) * shardlock.BLOCK, (block + 2) * shardlock.BLOCK)
        assert not waits(lambda: shardlock.lock_for_tick(*after))
        if block > 0:
            assert not waits(lambda: shardlock.lock_for_tick(*before))
        # One owner's range is enough to meet it.
        assert waits(lambda: shardlock.lock_for_tick(device.owner_id, device.owner_id + 1))
