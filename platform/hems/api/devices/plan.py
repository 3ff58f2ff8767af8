"""How PostgreSQL plans the listing of a caller's devices.

``Device.objects.with_kinds()`` left-joins the live state and every kind's table: a
dozen tables. Searching the best order of so many joins costs the planner several
milliseconds each time (more than running the query), and from 12 tables on it
switches to a randomised search. The best plan is known: the caller's few device rows
from the owner index, then each joined row by its primary key. So the query is planned
in the order it is written (``join_collapse_limit = 1``) with nested loops, for that
one query only (``SET LOCAL`` in its own transaction), whatever the size of the tables.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction

# For the one query: planned in the written order, joined by index lookups.
SETTINGS = (("join_collapse_limit", "1"), ("enable_hashjoin", "off"), ("enable_mergejoin", "off"))
_SET_LOCAL = "SELECT " + ", ".join(f"set_config('{name}', '{value}', true)" for name, value in SETTINGS)


@contextmanager
def joins_as_written():
    """Plan the queries run inside as written, by index lookups.

    Only outside a transaction (an API query): the settings then end with the
    transaction opened here. Inside one (a mutation) the queries run as they are, so
    nothing else in that transaction is planned this way. Other databases (the
    embedded SQLite) plan as they do."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_SET_LOCAL)
        yield


def as_written_before(alias: str = DEFAULT_DB_ALIAS) -> str:
    """What ``joins_as_written`` sets, as a statement to send ahead of one query in its
    round trip (``CompiledQuery.run(before=...)``): PostgreSQL runs the statements of one
    query string as one transaction, which the settings end with. Empty where
    ``joins_as_written`` would set nothing, and where the connection binds parameters on
    the server (``server_side_binding``: one statement per query), for which
    ``joins_as_written`` remains the way."""
    database = connections[alias]
    if database.vendor != "postgresql" or database.in_atomic_block:
        return ""
    return "" if database.settings_dict.get("OPTIONS", {}).get("server_side_binding") else _SET_LOCAL
