"""Deleting a user erases everything of theirs, table by table: every row of every table
that refers to the user or to one of their devices (found in the database's catalogue,
so a table added later is checked too), history partitions included, and their cached
stats in Redis. Another user's rows stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from hems.energy import cache
from hems.simulation.tick import run_tick
from hems.tests.factories import kind_keys, make_device

pytestmark = pytest.mark.django_db

START = datetime(2026, 6, 22, 9, 40, tzinfo=UTC)
LOGIN = "mutation($u: String!, $p: String!) { loginUser(username: $u, password: $p) { token refreshToken } }"
STATS = "{ energyStats { currentProduction } }"
PASSWORDS = {"alice": "correct horse staple 42", "bob": "another long passphrase"}

# Every table (partitions are read through their parent) and how it refers to a user or
# a device: by foreign key, or by a bare id column the history tables carry.
REFERENCES = """
SELECT c.relname, a.attname,
       CASE WHEN t.relname = 'auth_user' OR a.attname IN ('owner_id', 'user_id') THEN 'user' ELSE 'device' END
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
LEFT JOIN pg_constraint f ON f.conrelid = c.oid AND f.contype = 'f' AND a.attnum = ANY (f.conkey)
LEFT JOIN pg_class t ON t.oid = f.confrelid
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND a.attnum > 0 AND NOT a.attisdropped
  AND (t.relname IN ('auth_user', 'hems_device') OR a.attname IN ('owner_id', 'user_id', 'device_id'))
  AND c.relname <> 'auth_user'
"""


LOGIN_RECORDS = ("axes_accessattempt", "axes_accessfailurelog", "axes_accesslog")


def references() -> list[tuple[str, str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(REFERENCES)
        return sorted(set(cursor.fetchall()))


def rows_of(user_id: int, device_ids: list[int], username: str) -> dict[str, int]:
    """For each referring table and column, how many rows refer to the user or their devices."""
    counts = {}
    with connection.cursor() as cursor:
        for table in LOGIN_RECORDS:  # these name the account rather than point at it
            cursor.execute(f'SELECT count(*) FROM "{table}" WHERE username = %s', [username])
            counts[f"{table}.username"] = cursor.fetchone()[0]
        for table, column, target in references():
            ids = [user_id] if target == "user" else device_ids or [-1]
            cursor.execute(f'SELECT count(*) FROM "{table}" WHERE "{column}" = ANY(%s)', [ids])
            counts[f"{table}.{column}"] = cursor.fetchone()[0]
    return counts


@pytest.fixture
def two_homes(api, user, other_user, settings):
    settings.HEMS_DEVICE_HOUR_FILING_MINUTES = 1  # every device's hour filed at once, not at its minute
    homes = {}
    for owner in (user, other_user):
        homes[owner.pk] = [make_device(owner, key).pk for key in kind_keys()]
        api.data(LOGIN, {"u": owner.username, "p": PASSWORDS[owner.username]})
        api.error(LOGIN, {"u": owner.username, "p": "a wrong password"})
    for minute in range(0, 41, 10):  # across 10:00: each device files a finished hour
        run_tick(START + timedelta(minutes=minute))
    for owner in (user, other_user):
        api.data(STATS, user=owner)  # caches the home's stats
        assert cache.client().exists(cache.key(owner.pk))
    return homes


def test_deleting_a_user_erases_every_row_and_key_of_theirs(
    user, other_user, two_homes, django_capture_on_commit_callbacks
):
    user_id, mine, theirs = user.pk, two_homes[user.pk], two_homes[other_user.pk]
    before = rows_of(user_id, mine, user.username)
    for table in (
        "hems_home_energy.owner_id",
        "hems_home_energy_running.owner_id",
        "hems_home_energy_hour.owner_id",
        "hems_home_energy_day.owner_id",
        "hems_device_energy.device_id",
        "hems_device_energy_day.device_id",
        "hems_device_state.device_id",
        "hems_device.owner_id",
        "hems_home.owner_id",
        "refresh_token_refreshtoken.user_id",
        "axes_accessattempt.username",
    ):
        assert before.get(table), f"the test needs rows in {table}: {before}"
    others_before = rows_of(other_user.pk, theirs, other_user.username)

    with django_capture_on_commit_callbacks(execute=True):
        user.delete()

    after = rows_of(user_id, mine, user.username)
    assert {table: count for table, count in after.items() if count} == {}
    assert not cache.client().exists(cache.key(user_id))
    assert rows_of(other_user.pk, theirs, other_user.username) == others_before
    assert cache.client().exists(cache.key(other_user.pk))


def hours_by_device(device_ids: list[int]) -> dict[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT device_id, count(*) FROM hems_device_energy WHERE device_id = ANY(%s) GROUP BY 1", [device_ids]
        )
        return dict(cursor.fetchall())


def test_deleting_a_device_erases_its_history(user, two_homes):
    from hems.devices.models import Device

    before = hours_by_device(two_homes[user.pk])
    gone = next(iter(before))
    Device.objects.get(pk=gone).specific.delete()
    assert hours_by_device(two_homes[user.pk]) == {pk: n for pk, n in before.items() if pk != gone}
