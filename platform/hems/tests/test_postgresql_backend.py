"""The database connection's health check before each reuse, kept or pooled: a connection
the server closed is replaced before a request uses it, as Django's round-trip checks did,
and a good one costs no round trip (``hems.postgresql``). The restart under a running
server (the pooled web process) is in ``faults/test_postgres_restart.py``."""

from __future__ import annotations

import select
import tempfile
from contextlib import closing, contextmanager

import psycopg
import pytest
from django.db import connection, connections
from psycopg import pq

from hems.postgresql.base import DatabaseWrapper

pytestmark = pytest.mark.django_db


@pytest.fixture
def kept():
    """A persistent connection of its own, as a web worker keeps one between requests
    (the test's own connection holds the test's transaction)."""
    wrapper = connections.create_connection("default")
    wrapper.ensure_connection()
    with closing(wrapper):
        yield wrapper


def pid_of(wrapper) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@contextmanager
def sent(raw: psycopg.Connection):
    """The messages the client sends the server meanwhile ("Query", ...), read off
    libpq's protocol trace."""
    messages: list[str] = []
    with tempfile.TemporaryFile("w+") as trace:
        raw.pgconn.trace(trace.fileno())
        raw.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            yield messages
        finally:
            raw.pgconn.untrace()  # flushes the trace
            trace.seek(0)
            messages += [line.split("\t")[2] for line in trace.read().splitlines() if line.startswith("F\t")]


def terminate(pid: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert cursor.fetchone() == (True,)


def wait_for_input(raw: psycopg.Connection) -> None:
    """Until the server's message is on the connection's socket (an event, not a delay)."""
    poller = select.poll()
    poller.register(raw.pgconn.socket, select.POLLIN)
    assert poller.poll(10_000), "the server sent nothing within 10 s"


def test_the_backend_is_hems_postgresql_with_health_checks_on():
    assert connection.settings_dict["ENGINE"] == "hems.postgresql"
    assert connection.vendor == "postgresql"
    assert connection.health_check_enabled


def test_a_good_connection_passes_without_a_query(kept):
    with kept.cursor() as cursor:
        cursor.execute("SELECT 'the request before'")
    with sent(kept.connection) as messages:
        assert kept.is_usable()
    assert messages == []  # Django's own check sends SELECT 1


def test_a_connection_the_server_closed_is_replaced_before_the_request_uses_it(kept):
    old = pid_of(kept)
    terminate(old)
    wait_for_input(kept.connection)
    assert not kept.is_usable()

    kept.health_check_done = False  # what the start of a request does (close_old_connections)
    with kept.cursor() as cursor:  # the check runs first, and reconnects
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != old


def test_a_message_that_is_not_a_goodbye_keeps_the_connection(kept):
    kept.set_autocommit(True)
    with kept.cursor() as cursor:
        cursor.execute("LISTEN hems_health_check_test")
    pid = pid_of(kept)
    with closing(connections.create_connection("default")) as other, other.cursor() as cursor:
        cursor.execute("NOTIFY hems_health_check_test, 'hello'")  # autocommit: delivered at once
    wait_for_input(kept.connection)

    with sent(kept.connection) as messages:
        assert kept.is_usable()
    assert messages == ["Query"]  # checked the old way, and the server answers
    assert pid_of(kept) == pid


@pytest.fixture
def pooled():
    """A pooled connection, as the web process (bin/hems web) has them."""
    settings = {**connection.settings_dict, "CONN_MAX_AGE": 0, "OPTIONS": {"pool": {"min_size": 1, "max_size": 1}}}
    wrapper = DatabaseWrapper(settings, alias="pooled_for_test")
    try:
        yield wrapper
    finally:
        wrapper.close()
        wrapper.close_pool()


def test_the_pool_hands_out_a_good_connection_without_a_query_and_replaces_one_the_server_closed(pooled):
    pid = pid_of(pooled)
    raw = pooled.connection
    pooled.close()  # back to the pool, as at the end of a request

    with sent(raw) as messages:
        pooled.ensure_connection()  # the next request takes it
    assert pooled.connection is raw
    assert messages == []  # psycopg_pool's check_connection, Django's choice, sends an empty query
    pooled.close()

    terminate(pid)
    wait_for_input(raw)
    assert pid_of(pooled) != pid  # the pool's check dropped it and opened another
