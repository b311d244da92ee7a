"""Prepared statements keep the plan they were prepared with (core/db/postgresql)."""

import pytest
from django.db import connection

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def _plan_cache_mode() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        return cursor.fetchone()[0]


def _new_connection() -> None:
    connection.close()
    connection.ensure_connection()


def test_a_new_connection_keeps_prepared_plans(settings):
    settings.PREPARED_STATEMENTS = True
    _new_connection()

    assert _plan_cache_mode() == "force_generic_plan"


@pytest.mark.parametrize("setting", [{"PREPARED_STATEMENTS": False},
                                     {"DATABASE_POOLER": "pgbouncer-transaction"}])
def test_where_nothing_is_prepared_postgresql_chooses_as_before(settings, setting):
    for name, value in setting.items():
        setattr(settings, name, value)
    _new_connection()
    try:
        assert _plan_cache_mode() == "auto"
    finally:
        connection.close()  # the next test's connection starts with the real settings
