"""Prepared statements for chosen reads and writes on PostgreSQL.

Django binds parameters on the client, so PostgreSQL parses and plans every statement anew.
For most of the console that is right: a queue's query filters on states given as
parameters, and a plan prepared once for any parameters (PostgreSQL's "generic" plan, which
it switches to after five executions) cannot use the open-ticket partial indexes — prepared
queue pages measured 7 to 20 times slower (bench/RESULTS.md, "Flat cost at a million
tickets"). Some statements are the other way round: the workspace's ticket with its related
rows is planned in about 5 ms and runs in 0.4 ms at a million tickets, and intake's INSERTs
have nothing to plan but are parsed every time. Their plans do not depend on the values (a
lookup by key, an insert), so preparing them loses nothing.

`prepared_statements()` marks such a block: within it, statements on the connection are sent
with server-side binding and prepared on first use (psycopg keeps up to `prepared_max` of
them per connection and names them itself). Outside it nothing changes. It does nothing on
SQLite, behind PgBouncer in transaction mode (a prepared statement lives on one server
connection, DATABASE_POOLER) or with PREPARED_STATEMENTS off.
"""

import functools
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections


@functools.cache
def _preparing_cursor_class() -> type:
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparingCursor(ServerBindingCursor):
        """A server-binding cursor that asks psycopg to prepare every statement it runs."""

        def execute(self, query, params=None, *, prepare=None, binary=None):
            # (django-stubs do not describe the psycopg cursor Django's class extends)
            result = super().execute(  # type: ignore[misc]
                query, params, prepare=True, binary=binary)
            # psycopg keeps no query after running a prepared statement; Django's query log
            # (connection.queries, the django.db.backends logger, CaptureQueriesContext)
            # reads the statement from there, so it gets one, written out only if read.
            self._query = _ExecutedStatement(
                self.connection, query, params)  # type: ignore[attr-defined]
            return result

    return PreparingCursor


class _ExecutedStatement:
    """The statement a prepared execution ran, with its values, as Django's query log reads
    it from a psycopg cursor (`cursor._query.query`, bytes)."""

    __slots__ = ("_connection", "_statement", "_values")

    def __init__(self, connection, statement, values):
        self._connection, self._statement, self._values = connection, statement, values

    @property
    def query(self) -> bytes:
        from psycopg import ClientCursor

        with ClientCursor(self._connection) as cursor:
            return cursor.mogrify(self._statement, self._values).encode()

    params = None


_ALWAYS = 0  # psycopg's prepare_threshold: prepare what asks to be prepared, at once


def enabled(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Return whether statements on `using` may be prepared."""
    return enabled_on(connections[using])


def enabled_on(connection) -> bool:
    """Return whether statements on this connection (a Django database wrapper) may be
    prepared."""
    return (connection.vendor == "postgresql"
            and getattr(settings, "PREPARED_STATEMENTS", True)
            and getattr(settings, "DATABASE_POOLER", "") != "pgbouncer-transaction")


@contextmanager
def prepared_statements(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Prepare the statements run on `using` within this block (PostgreSQL; see above).

    Use it only around statements whose best plan does not depend on their parameters.
    """
    if not enabled(using):
        yield
        return
    connection = connections[using]
    connection.ensure_connection()
    raw = connection.connection
    previous = raw.cursor_factory, raw.prepare_threshold
    # Django turns preparing off with a threshold of None, which psycopg also applies to
    # prepare=True; any number turns it back on (only this block's cursors ask for it).
    raw.cursor_factory, raw.prepare_threshold = _preparing_cursor_class(), _ALWAYS
    try:
        yield
    finally:
        # The connection may have been closed and replaced within the block; a new one
        # starts with Django's own settings and needs nothing put back.
        if connection.connection is raw:
            raw.cursor_factory, raw.prepare_threshold = previous


def columns_of(model, table_alias: str) -> str:
    """Return the model's columns as a SELECT list, `alias."column", ...`.

    For hand-written statements that may be prepared: with `alias.*` a column added by a
    migration changes the result of a statement a running process has prepared, and
    PostgreSQL refuses to run it again ("cached plan must not change result type").
    """
    from django.db import connection

    quote = connection.ops.quote_name
    return ", ".join(f"{table_alias}.{quote(field.column)}"
                     for field in model._meta.concrete_fields)
