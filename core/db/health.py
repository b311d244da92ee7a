"""Whether the read replica may serve reads now: configured, answering, and not too far behind.

The answer is measured on the replica at most once every CHECK_EVERY_SECONDS per process and
kept in memory, so a routed query costs no extra round trip. A replica that stops answering, or
falls behind, is logged once when that happens and once when it is back, not on every request.
"""

import contextlib
import logging
import math
import threading
import time
from typing import NamedTuple

from django.conf import settings
from django.db import DatabaseError, connections

DEFAULT = "default"
REPLICA = "replica"
# How long a measured status is trusted. Short enough that a replica that lags or dies stops
# getting reads within a second or two, long enough to cost nothing per query.
CHECK_EVERY_SECONDS = 1.5

logger = logging.getLogger(__name__)

# The replica's delay in seconds. Receiving and replaying happen on the replica, so when
# everything received has been replayed while the WAL receiver is streaming, the replica is
# as fresh as the primary has told it: no delay, however long ago the last transaction was
# (`now() - pg_last_xact_replay_timestamp()` alone grows while the primary is idle). Otherwise
# the delay is the age of the last replayed transaction, unknown (NULL) before the first one.
# Without the pg_read_all_stats role the receiver's status reads NULL; its row still shows it runs.
LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN pg_last_wal_replay_lsn() >= pg_last_wal_receive_lsn()
         AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver
                     WHERE COALESCE(status, 'streaming') = 'streaming') THEN 0
    ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())
END
"""


class ReplicaStatus(NamedTuple):
    """What health checks report: is a replica configured, does it answer, how far behind."""

    configured: bool
    available: bool
    lag_seconds: float | None  # None: unknown (not answering, or nothing replayed yet)


NOT_CONFIGURED = ReplicaStatus(configured=False, available=False, lag_seconds=None)
UNREACHABLE = ReplicaStatus(configured=True, available=False, lag_seconds=None)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def max_lag_seconds() -> float:
    return float(settings.REPLICA_MAX_LAG_SECONDS)


def is_usable(status: ReplicaStatus) -> bool:
    """Whether reads may go to a replica in this state."""
    return (status.available and status.lag_seconds is not None
            and status.lag_seconds <= max_lag_seconds())


class _Monitor:
    """The last measured status of this process's replica and when it was measured."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._status: ReplicaStatus | None = None
        self._measured_at = -math.inf
        self._state = "usable"  # what was last logged: "usable", "lagging" or "unreachable"

    def status(self) -> ReplicaStatus:
        if not replica_configured():
            return NOT_CONFIGURED
        known = self._status
        if known is not None and time.monotonic() - self._measured_at < CHECK_EVERY_SECONDS:
            return known
        # One thread measures; the others go on with what is known rather than queue behind a
        # replica that may take its connect timeout to refuse.
        if not self._lock.acquire(blocking=False):
            return known or UNREACHABLE
        try:
            status, error = _measure()
            self._remember(status, error)
            return status
        finally:
            self._lock.release()

    def unreachable(self, error: BaseException) -> None:
        """Stop reading from the replica until the next measurement: a query on it failed."""
        _close_replica_connection()
        self._remember(UNREACHABLE, error)

    def forget(self) -> None:
        with self._lock:
            self._status = None
            self._measured_at = -math.inf
            self._state = "usable"

    def _remember(self, status: ReplicaStatus, error: BaseException | None = None) -> None:
        self._status = status
        self._measured_at = time.monotonic()
        state = ("unreachable" if not status.available
                 else "usable" if is_usable(status) else "lagging")
        if state == self._state:
            return
        self._state = state
        if state == "unreachable":
            logger.warning("Read replica unreachable; reads go to the primary until it "
                           "answers again: %s", error)
        elif state == "lagging":
            logger.warning("Read replica is %s seconds behind (more than %s); reads go to the "
                           "primary until it catches up.", status.lag_seconds, max_lag_seconds())
        else:
            logger.info("Read replica usable again (%s seconds behind).", status.lag_seconds)


def _measure() -> tuple[ReplicaStatus, DatabaseError | None]:
    connection = connections[REPLICA]
    try:
        if connection.vendor != "postgresql":
            connection.ensure_connection()
            return ReplicaStatus(configured=True, available=True, lag_seconds=0.0), None
        with connection.cursor() as cursor:
            cursor.execute(LAG_SQL)
            row = cursor.fetchone()
    except DatabaseError as error:
        _close_replica_connection()
        return UNREACHABLE, error
    lag = None if row is None or row[0] is None else max(0.0, float(row[0]))
    return ReplicaStatus(configured=True, available=True, lag_seconds=lag), None


def _close_replica_connection() -> None:
    # A broken connection may fail to close; the next use opens a new one either way.
    with contextlib.suppress(DatabaseError):
        connections[REPLICA].close()


_monitor = _Monitor()


def replica_status() -> ReplicaStatus:
    """Return (configured, available, lag_seconds) of the read replica, at most
    CHECK_EVERY_SECONDS old. For health checks and the router."""
    return _monitor.status()


def replica_usable() -> bool:
    return is_usable(replica_status())


def replica_unreachable(error: BaseException) -> None:
    """Record that a query on the replica failed: reads go to the primary until it answers."""
    _monitor.unreachable(error)


def forget_replica_status() -> None:
    """Measure again on the next read (after changing the replica's settings, and in tests)."""
    _monitor.forget()
