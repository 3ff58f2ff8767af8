"""PostgreSQL's binary COPY format, written straight from numpy arrays.

Every row has the same fixed-width layout, so one structured array holds the whole
payload and ``tobytes()`` produces it without a Python loop over rows.
"""

from __future__ import annotations

import numpy as np

HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
TRAILER = (-1).to_bytes(2, "big", signed=True)
WIDTH = {"int8": (">i8", 8), "float8": (">f8", 8), "bool": ("?", 1), "int4": (">i4", 4)}


def encode(columns: list[tuple[str, str, np.ndarray]]) -> bytes:
    """Binary COPY payload for rows of ``(name, pg_type, values)`` columns (no NULLs:
    write NaN and convert in SQL)."""
    n = len(columns[0][2]) if columns else 0
    layout = [("count", ">i2")]
    for name, pg_type, _ in columns:
        layout += [(f"{name}_len", ">i4"), (name, WIDTH[pg_type][0])]
    rows = np.empty(n, dtype=np.dtype(layout))
    rows["count"] = len(columns)
    for name, pg_type, values in columns:
        rows[f"{name}_len"] = WIDTH[pg_type][1]
        rows[name] = values
    return HEADER + rows.tobytes() + TRAILER


def copy_in(cursor, table: str, columns: list[tuple[str, str, np.ndarray]]) -> None:
    """COPY the columns into ``table`` through the Django cursor's psycopg cursor."""
    names = ", ".join(name for name, _, _ in columns)
    with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(encode(columns))
