"""The database router: reporting reads to the read replica when it is fit, everything else
to the primary.

A read goes to the replica only when all of these hold: it runs inside a reporting-read scope
(`core.db.scope`); neither this request or scope nor its user (within READ_YOUR_WRITES_SECONDS)
has written; the primary's connection is in no transaction (a read there must see the
transaction's own writes, and the rows it may lock); and a replica is configured, answers and
is at most REPLICA_MAX_LAG_SECONDS behind (`core.db.health`). Writes and migrations always go
to the primary.
"""

from typing import Any

from django.db import connections
from django.db.models import Model

from core.db import health, scope
from core.db.health import DEFAULT, REPLICA


class ReplicaRouter:
    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        # Every other read names the primary, not None: a row read from the replica would
        # otherwise send the reads of its relations there too, outside any scope.
        current = scope.current_scope()
        if current is None or scope.wrote_recently() or not health.replica_configured():
            return DEFAULT
        if connections[DEFAULT].in_atomic_block or not health.replica_usable():
            return DEFAULT
        current.used_replica = True
        return REPLICA

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        scope.note_write()
        return DEFAULT

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        # The replica holds the primary's rows: a row read from either may point at the other.
        if {obj1._state.db, obj2._state.db} <= {DEFAULT, REPLICA}:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None,
                      **hints: Any) -> bool:
        return db != REPLICA
