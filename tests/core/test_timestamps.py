"""timestamptz values read by psycopg's compiled parser, as Django's own loader reads them."""

import datetime

import psycopg
import pytest
from django.db import connection
from psycopg.pq import Format

TIMESTAMPTZ = psycopg.postgres.types["timestamptz"].oid

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL loader")


def test_the_connection_reads_timestamps_with_the_compiled_loader(postgresql):
    connection.ensure_connection()
    loader = connection.connection.adapters.get_loader(TIMESTAMPTZ, Format.TEXT)

    assert loader.__name__ == "CompiledTimestamptzLoader"
    # Django's create_cursor compares this to decide whether a cursor needs its own loader.
    assert loader.timezone == connection.timezone


@pytest.mark.parametrize("text", [
    "2026-12-03 18:13:19.190704+00", "2026-12-04 02:13:19+08", "1999-12-31 23:59:59.5-05:30",
    "2024-02-29 00:00:00+00",
])
def test_values_are_the_instants_django_s_own_loader_gives(postgresql, text):
    from django.db.backends.postgresql.psycopg_any import BaseTzLoader

    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::timestamptz", [text])
        [(value,)] = cursor.fetchall()

        class Django(BaseTzLoader):
            timezone = connection.timezone

        expected = Django(TIMESTAMPTZ, cursor.cursor).load(
            cursor.cursor.connection.execute("SELECT %s::timestamptz::text", [text])
            .fetchone()[0].encode())

    assert value == expected
    assert value.tzinfo is connection.timezone is datetime.UTC
