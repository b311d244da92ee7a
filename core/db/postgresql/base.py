"""Django's PostgreSQL backend: a health check that costs no round trip while it can, and
prepared statements that keep the plan they were prepared with.

With CONN_HEALTH_CHECKS Django checks a kept connection at the start of every request by
sending `SELECT 1` and waiting for the answer: one more round trip on every request, the
same price as a real query (by py-spy, 6 % of an API intake over HTTP).

A server that ends a connection (a restart, `pg_terminate_backend`, `idle_session_timeout`, a
pooler closing it) sends a last message or closes the socket, so the socket of an idle
connection becomes readable. While it has nothing to read, and the connection is idle and
unbroken as far as the driver knows, the connection is taken as healthy without asking the
server; otherwise Django's own check runs. A host that vanishes without a word is not caught
by either check until its TCP timeout, so nothing is lost against `SELECT 1`.
"""

import select

from django.db.backends.postgresql import base
from psycopg import pq

from core.db import prepared


def has_nothing_to_read(fileno: int) -> bool:
    """Return whether the socket has nothing waiting: no message, no end of stream."""
    poller = select.poll()
    poller.register(fileno, select.POLLIN | select.POLLPRI)
    return not poller.poll(0)


class DatabaseWrapper(base.DatabaseWrapper):
    # Django's own attributes (django/db/backends/base/base.py); its stubs do not declare them.
    health_check_enabled: bool
    health_check_done: bool

    def close_if_health_check_failed(self):
        if (self.connection is not None and self.health_check_enabled
                and not self.health_check_done and self._quietly_idle()):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def _quietly_idle(self) -> bool:
        pgconn = self.connection.pgconn
        return (not self.connection.broken
                and pgconn.status == pq.ConnStatus.OK
                and pgconn.transaction_status == pq.TransactionStatus.IDLE
                and has_nothing_to_read(pgconn.socket))

    def init_connection_state(self):
        super().init_connection_state()
        if self.connection is not None and prepared.enabled_on(self):
            # The console prepares only statements whose best plan does not depend on their
            # values (core.db.prepared). PostgreSQL, left to choose, still plans some of them
            # again on every run when it guesses a plan for the given values is cheaper: the
            # queue page's rows were planned anew on all of 1,414 runs, 0.6 ms of the 1.0 ms
            # the statement took (bench/RESULTS.md). Statements that are not prepared, all of
            # Django's own, are planned for their values as before: this setting is only
            # about prepared ones.
            with self.connection.cursor() as cursor:
                cursor.execute("SET plan_cache_mode = force_generic_plan")
            if not self.get_autocommit():
                self.connection.commit()
