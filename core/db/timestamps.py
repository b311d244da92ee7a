"""Reading `timestamptz` values with psycopg's compiled parser, as Django means them.

Django's PostgreSQL backend registers its own loader for `timestamptz` on every connection
(`BaseTzLoader` in django/db/backends/postgresql/psycopg_any.py): psycopg's pure-Python
parser, then the connection's time zone put on the result. A queue page reads five
timestamps for each of its fifty rows, and that parsing was a twentieth of the page's
Python. This loader does the same with the parser psycopg itself registers by default (its
C implementation when psycopg is installed with it, as `psycopg[binary]` is here), and keeps
Django's contract: the value is the instant in the connection's time zone (UTC under
USE_TZ), its tzinfo Django's own object. It carries `timezone`, which Django's
`create_cursor` compares to decide whether a cursor needs a loader of its own.
"""

import datetime
from typing import Any

import psycopg
from django.db.backends.signals import connection_created
from psycopg import abc
from psycopg.adapt import Loader
from psycopg.pq import Format


def _loader_for(zone: datetime.tzinfo | None) -> type[Loader]:
    oid = psycopg.postgres.types["timestamptz"].oid
    found = psycopg.adapters.get_loader(oid, Format.TEXT)
    if found is None:
        raise LookupError("psycopg has no timestamptz loader")
    parser: type[abc.Loader] = found

    class CompiledTimestamptzLoader(Loader):
        timezone = zone

        def __init__(self, oid: int, context: Any = None):
            super().__init__(oid, context)
            self._parse = parser(oid, context).load

        def load(self, data: Any) -> datetime.datetime:
            # What Django's BaseTzLoader returns: the parsed instant, its tzinfo replaced.
            return self._parse(data).replace(tzinfo=self.timezone)

    return CompiledTimestamptzLoader


_LOADERS: dict[datetime.tzinfo | None, type[Loader]] = {}


def use_compiled_timestamp_parser(sender: Any, connection: Any, **kwargs: Any) -> None:
    """connection_created receiver: swap Django's timestamptz loader for the compiled one."""
    if connection.vendor != "postgresql":
        return
    timezone = connection.timezone
    loader = _LOADERS.get(timezone)
    if loader is None:
        loader = _LOADERS[timezone] = _loader_for(timezone)
    connection.connection.adapters.register_loader("timestamptz", loader)


def install() -> None:
    """Connect the receiver (core.apps, at start-up)."""
    connection_created.connect(use_compiled_timestamp_parser,
                               dispatch_uid="cs_console_compiled_timestamps")
