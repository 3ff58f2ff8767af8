"""Is a PostgreSQL connection kept for reuse still good? Asked without a round trip.

Django checks a kept connection before each request or task that reuses it
(``CONN_HEALTH_CHECKS``): ``SELECT 1`` on a connection of its own, an empty query through
psycopg_pool's ``check`` on a pooled one. Either is a round trip to the server on every
request: 0.45 ms of a 3.2 ms ``energyStats`` at the median on a slow two-core VM, more
once the database is on another host. The connections those checks catch were closed by
the server (a restart, ``pg_terminate_backend``, an idle timeout, a pooler), and the
server says so on the socket before it goes: its last message, then the end of the
stream, which the kernel keeps until read. So the socket is looked at first, without
waiting. Nothing there: the connection is as good as a round trip could show. Anything
there, on a connection with no query under way: the round trip decides (a notice or a
notification passes it, a goodbye fails it and the connection is replaced).
"""

from __future__ import annotations

import select

import psycopg
from psycopg_pool import ConnectionPool


def server_spoke(connection: psycopg.Connection) -> bool:
    """Whether the server has sent anything, or closed the connection, since it was last
    read (True for a connection already known to be closed)."""
    if connection.closed:
        return True
    try:
        fileno = connection.pgconn.socket
    except psycopg.OperationalError:  # libpq has dropped the socket
        return True
    poller = select.poll()  # not select.select: no limit on the descriptor's number
    poller.register(fileno, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


def pool_check(connection: psycopg.Connection) -> None:
    """psycopg_pool's ``check`` callback: raise if the connection is broken, as
    ``ConnectionPool.check_connection`` does, asking the server only when it has spoken."""
    if server_spoke(connection):
        ConnectionPool.check_connection(connection)
