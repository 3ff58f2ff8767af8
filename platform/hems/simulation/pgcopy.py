"""Rows between numpy arrays and PostgreSQL in PostgreSQL's binary forms.

Every row has the same fixed-width layout, so one structured array holds the whole
payload: ``tobytes()`` produces a binary COPY without a Python loop over rows, and
``np.frombuffer`` reads rows back, either a binary COPY's (:func:`copy_out`) or the
server's own packing of them into one value (:func:`packed_rows`, the faster read).
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import numpy as np
import psycopg

HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
TRAILER = (-1).to_bytes(2, "big", signed=True)
WIDTH = {"int8": (">i8", 8), "float8": (">f8", 8), "bool": ("?", 1), "int4": (">i4", 4), "timestamptz": (">i8", 8)}

# A timestamptz travels as its internal value, microseconds since 2000-01-01 UTC, so
# neither side converts it row by row. NULL cannot travel in a fixed-width row: it is
# sent as -infinity (the smallest int8), which SQL turns back with NULLIF / COALESCE.
PG_EPOCH_S = 946_684_800
MINUS_INFINITY = np.iinfo(np.int64).min


@contextmanager
def logged(cursor, sql: str):
    """Record SQL sent on the psycopg connection itself (a COPY, a binary read) in
    Django's query log, as its own cursors do: ``connection.queries`` under DEBUG, and
    what ``CaptureQueriesContext`` counts."""
    started = time.monotonic()
    try:
        yield
    finally:
        if cursor.db.queries_logged:
            cursor.db.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})


def timestamps(epoch_s: np.ndarray) -> np.ndarray:
    """Seconds since 1970 (NaN for none) as timestamptz values for :func:`encode`."""
    epoch_s = np.asarray(epoch_s, dtype=float)
    none = np.isnan(epoch_s)
    micro = np.round((np.where(none, 0.0, epoch_s) - PG_EPOCH_S) * 1e6).astype(np.int64)
    micro[none] = MINUS_INFINITY
    return micro


def epoch_seconds(values: np.ndarray) -> np.ndarray:
    """Decoded timestamptz values back to seconds since 1970 (NaN for -infinity)."""
    values = np.asarray(values, dtype=np.int64)
    return np.where(values == MINUS_INFINITY, np.nan, values / 1e6 + PG_EPOCH_S)


def encode(columns: list[tuple[str, str, np.ndarray]]) -> np.ndarray:
    """The rows of a binary COPY payload, between :data:`HEADER` and :data:`TRAILER`, for
    ``(name, pg_type, values)`` columns (no NULLs: write NaN and convert in SQL)."""
    n = len(columns[0][2]) if columns else 0
    layout = [("count", ">i2")]
    for name, pg_type, _ in columns:
        layout += [(f"{name}_len", ">i4"), (name, WIDTH[pg_type][0])]
    rows = np.empty(n, dtype=np.dtype(layout))
    rows["count"] = len(columns)
    for name, pg_type, values in columns:
        rows[f"{name}_len"] = WIDTH[pg_type][1]
        rows[name] = values
    return rows


def copy_in(cursor, table: str, columns: list[tuple[str, str, np.ndarray]]) -> None:
    """COPY the columns into ``table`` through the Django cursor's psycopg cursor."""
    names = ", ".join(name for name, _, _ in columns)
    sql = f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)"
    rows = encode(columns)
    with logged(cursor, sql), cursor.db.wrap_database_errors, cursor.cursor.copy(sql) as copy:
        copy.write(HEADER)
        if len(rows):  # the array's own memory, not a copy of it (15 MB a shard)
            copy.write(memoryview(rows.view(np.uint8)))
        copy.write(TRAILER)


def decode(data: bytes, columns: list[tuple[str, str]]) -> np.ndarray:
    """Rows of a binary COPY ``TO STDOUT`` whose columns are all fixed-width and NOT
    NULL, as a structured array (fields named as given, in native byte order)."""
    layout = [("count", ">i2")]
    for name, pg_type in columns:
        layout += [(f"{name}_len", ">i4"), (name, WIDTH[pg_type][0])]
    dtype = np.dtype(layout)
    body = len(data) - len(HEADER) - len(TRAILER)
    if body < 0 or body % dtype.itemsize:
        raise ValueError("unexpected binary COPY payload (a NULL or variable-width column?)")
    return np.frombuffer(data, dtype=dtype, offset=len(HEADER), count=body // dtype.itemsize)


def copy_out(cursor, query: str, columns: list[tuple[str, str]]) -> np.ndarray:
    """Run ``COPY (query) TO STDOUT`` in binary and decode it (see :func:`decode`)."""
    sql = f"COPY ({query}) TO STDOUT (FORMAT BINARY)"
    with logged(cursor, sql), cursor.db.wrap_database_errors, cursor.cursor.copy(sql) as copy:
        data = b"".join(bytes(chunk) for chunk in copy)
    if not data:
        return decode(HEADER + TRAILER, columns)
    return decode(data, columns)


# Each type's binary send function: what a binary COPY writes for a value, without
# the field's length word.
SEND = {"int8": "int8send", "float8": "float8send", "bool": "boolsend", "int4": "int4send",
        "timestamptz": "timestamptz_send"}  # fmt: skip


def binary_rows(cursor, sql: str, params) -> list[tuple]:
    """The rows of ``sql``, its parameters bound by the server, read in binary: a float
    arrives as its eight bytes, not as text the server writes and psycopg parses back.
    Django's cursors bind on the client, which cannot ask for a binary result."""
    with logged(cursor, sql), cursor.db.wrap_database_errors, psycopg.Cursor(cursor.cursor.connection) as raw:
        raw.execute(sql, params, binary=True, prepare=False)  # never prepared: see packed_rows
        return raw.fetchall()


def packed_rows(cursor, query: str, columns: list[tuple[str, str]]) -> np.ndarray:
    """The rows of ``query`` (fixed-width columns, none NULL) as :func:`copy_out` gives
    them, in no particular order, packed by the server into one ``bytea``: a binary
    COPY arrives as one message per row, which costs the client about 2 µs a row
    (a quarter of a second per 125,000 rows) before any decoding."""
    names = [f"c{i}" for i in range(len(columns))]
    packed = " || ".join(f"{SEND[pg_type]}(q.{name})" for name, (_, pg_type) in zip(names, columns, strict=True))
    dtype = np.dtype([(name, WIDTH[pg_type][0]) for name, pg_type in columns])
    # Django's cursors bind on the client, which cannot ask for a binary result: the
    # bytea would arrive hex-encoded, twice the size.
    sql = (
        f"SELECT count(*), COALESCE(string_agg({packed}, ''::bytea), ''::bytea) FROM ({query}) AS q({', '.join(names)})"
    )
    with logged(cursor, sql), cursor.db.wrap_database_errors, psycopg.Cursor(cursor.cursor.connection) as raw:
        # Never prepared: each shard's text differs, and a pooler in transaction mode
        # keeps no named statements.
        raw.execute(sql, binary=True, prepare=False)
        count, data = raw.fetchone()
    if len(data) != count * dtype.itemsize:  # a NULL drops its row from the aggregate
        raise ValueError("unexpected packed rows (a NULL or variable-width column?)")
    return np.frombuffer(data, dtype=dtype)
