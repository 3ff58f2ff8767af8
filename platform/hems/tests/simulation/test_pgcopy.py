"""Rows to and from PostgreSQL in numpy: the binary COPY and the packed read agree,
and a NULL the fixed-width layout cannot carry is an error, never a lost row."""

from __future__ import annotations

import numpy as np
import pytest
from django.db import connection

from hems.simulation.pgcopy import copy_in, copy_out, packed_rows, timestamps

pytestmark = pytest.mark.django_db

COLUMNS = [("id", "int8"), ("power", "float8"), ("lit", "bool"), ("code", "int4"), ("at", "timestamptz")]


@pytest.fixture
def table():
    n = 1000
    values = [
        ("id", "int8", np.arange(n, dtype=np.int64) * 7 - 3),
        ("power", "float8", np.linspace(-1e300, 1e300, n)),
        ("lit", "bool", np.arange(n) % 3 == 0),
        ("code", "int4", (np.arange(n) % 11).astype(np.int32)),
        ("at", "timestamptz", timestamps(1.7e9 + np.arange(n) * 0.123456)),
    ]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE rows (id int8, power float8, lit bool, code int4, at timestamptz)")
        copy_in(cursor, "rows", values)
    return values


def test_the_packed_read_gives_what_the_binary_copy_gives(table):
    query = "SELECT id, power, lit, code, at FROM rows"
    with connection.cursor() as cursor:
        copied = copy_out(cursor, query, COLUMNS)
        packed = packed_rows(cursor, query, COLUMNS)
    packed = packed[np.argsort(packed["id"])]
    for (name, _, values), _ in zip(table, COLUMNS, strict=True):
        np.testing.assert_array_equal(packed[name], copied[name])
        np.testing.assert_array_equal(packed[name], values)


def test_no_rows_is_an_empty_array(table):
    with connection.cursor() as cursor:
        packed = packed_rows(cursor, "SELECT id, power, lit, code, at FROM rows WHERE false", COLUMNS)
    assert len(packed) == 0 and packed.dtype.names == tuple(name for name, _ in COLUMNS)


def test_a_null_is_refused_rather_than_its_row_dropped(table):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE rows SET power = NULL WHERE id = 4")
        with pytest.raises(ValueError, match="NULL"):
            packed_rows(cursor, "SELECT id, power, lit, code, at FROM rows", COLUMNS)
