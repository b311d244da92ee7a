"""Liveness and readiness probes, on django-health-check.

Liveness answers as long as the process serves requests and touches nothing else: a
restart cannot cure a database outage, so a probe that restarts on failure must not look at
the database. Readiness asks whether this node can do its work now: database reachable and
migrated, broker and shared cache reachable when configured, file storage writable. A load
balancer takes an unready node out of rotation (503) until it answers 200 again.

The answers say which check failed and why in a few words, never a host name, a credential or
an exception's text: the probes are open to anyone who can reach the console.
"""

import asyncio
import dataclasses
import functools
import logging
import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.db import DatabaseError, connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from health_check import checks
from health_check.base import HealthCheck, HealthCheckResult
from health_check.exceptions import ServiceUnavailable, ServiceWarning
from health_check.views import HealthCheckView

from core.db.health import max_lag_seconds, replica_configured, replica_status

logger = logging.getLogger(__name__)

class Unready(ServiceUnavailable):
    """A failed check whose message is ours, short and safe to show to anyone."""


class Degraded(ServiceWarning):
    """Worth a look, but the node still serves: reported, and the answer stays 200."""


# --- the checks ----------------------------------------------------------------------------
# Each has a short stable `name`, the key of the answer's "checks" object.


@dataclasses.dataclass
class DatabaseReachable(checks.Database):
    name: ClassVar[str] = "database"


@dataclasses.dataclass
class StorageWritable(checks.Storage):
    """Save, read back and delete a small file in the default storage (local or S3)."""

    name: ClassVar[str] = "storage"

    def get_file_name(self) -> str:
        # At the top of the storage: the library's own folder would stay behind, empty, in a
        # local MEDIA_ROOT after every probe.
        return f"readiness-probe-{uuid.uuid4().hex}.txt"


@dataclasses.dataclass
class CacheReachable(checks.Cache):
    name: ClassVar[str] = "cache"


@dataclasses.dataclass
class BrokerReachable(HealthCheck):
    """Ping django-q2's Redis broker (the library's Redis check, without its host in reprs)."""

    name: ClassVar[str] = "redis"
    url: str = dataclasses.field(default="", repr=False)
    timeout_seconds: float = dataclasses.field(default=2.0, repr=False)

    async def run(self) -> None:
        from health_check.contrib.redis import Redis
        from redis.asyncio import Redis as RedisClient

        def client() -> RedisClient:
            return RedisClient.from_url(self.url, socket_connect_timeout=self.timeout_seconds,
                                        socket_timeout=self.timeout_seconds)

        try:
            await Redis(client_factory=client).run()
        except ServiceUnavailable as failure:
            raise Unready("broker unreachable") from failure
        except OSError as failure:  # a name that does not resolve, a refused socket
            raise Unready("broker unreachable") from failure


@functools.cache
def _migrations_in_code() -> dict[tuple[str, str], tuple[tuple[str, str], ...]]:
    """Every migration the code holds, with those it replaces (the same for the process's life)."""
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    return {key: tuple(graph.nodes[key].replaces or ()) for key in graph.nodes}


def unapplied_migrations(alias: str = "default") -> list[tuple[str, str]]:
    connection = connections[alias]
    with connection.temporary_connection():
        applied = set(MigrationRecorder(connection).applied_migrations())
    return sorted(
        key for key, replaces in _migrations_in_code().items()
        if key not in applied and not (replaces and set(replaces) <= applied)
    )


@dataclasses.dataclass
class MigrationsApplied(HealthCheck):
    """A node whose code expects tables the database does not have yet is not ready."""

    name: ClassVar[str] = "migrations"
    alias: str = "default"

    def run(self) -> None:
        try:
            missing = unapplied_migrations(self.alias)
        except DatabaseError as failure:
            raise Unready("cannot read the applied migrations") from failure
        if missing:
            raise Unready(f"{len(missing)} migration(s) not applied")


@dataclasses.dataclass
class ReplicaLag(HealthCheck):
    """The read replica is reachable and not further behind than REPLICA_MAX_LAG_SECONDS.

    Reported as degraded, not unready: every node reads from the same replica and falls back
    to the primary when it lags, so taking the nodes out of rotation would turn a slow
    replica into an outage.
    """

    name: ClassVar[str] = "replica"

    def run(self) -> None:
        # What the router sees (core.db.health, measured at most every 1.5 s per process),
        # so the probe reports the state the reads are routed by.
        status = replica_status()
        if not status.available:
            raise Degraded("replica unreachable")
        if status.lag_seconds is None:
            raise Degraded("replica lag unknown")
        limit = max_lag_seconds()
        if status.lag_seconds > limit:
            raise Degraded(f"replica {status.lag_seconds:.0f} s behind (limit {limit:g} s)")


def _broker_url() -> str | None:
    url = settings.Q_CLUSTER.get("redis")
    return url if isinstance(url, str) and url else None


def readiness_checks() -> list[HealthCheck]:
    """The checks this configuration needs, read from the settings at each probe."""
    found: list[HealthCheck] = [DatabaseReachable(), MigrationsApplied(), StorageWritable()]
    broker = _broker_url()
    if broker is not None:
        found.append(BrokerReachable(url=broker))
    if "redis" in settings.CACHES["default"]["BACKEND"].lower():
        found.append(CacheReachable())
    if replica_configured():
        found.append(ReplicaLag())
    return found


# --- the answers ---------------------------------------------------------------------------


def _reason(result: HealthCheckResult) -> str:
    error = result.error
    if error is None:
        return "ok"
    if isinstance(error, Unready | Degraded):
        return str(error.message)
    # The library's own messages can carry a database's address; its kind of failure cannot.
    return error.message_type.lower()


def readiness_body(results: list[HealthCheckResult]) -> tuple[dict[str, Any], int]:
    names = {id(result): getattr(result.check, "name", type(result.check).__name__)
             for result in results}
    failed = [names[id(r)] for r in results if r.error and not isinstance(r.error, Degraded)]
    degraded = [names[id(r)] for r in results if isinstance(r.error, Degraded)]
    status = "unavailable" if failed else "degraded" if degraded else "ok"
    body: dict[str, Any] = {
        "status": status,
        "checks": {names[id(result)]: _reason(result) for result in results},
    }
    if failed:
        body["failed"] = failed
    if degraded:
        body["degraded"] = degraded
    return body, 503 if failed else 200


class ReadinessView(HealthCheckView):
    """Run the readiness checks side by side and answer JSON: 200 ready, 503 not."""

    def get_checks(self):
        yield from readiness_checks()

    async def get(self, request, *args, **kwargs):
        with self.get_executor() as executor:
            results = await asyncio.gather(
                *(check.get_result(executor) for check in self.get_checks()))
        body, status = readiness_body(list(results))
        if status != 200:
            logger.warning("Not ready: %s", ", ".join(body["failed"]))
        return JsonResponse(body, status=status)


readiness = ReadinessView.as_view()


@never_cache
def liveness(request: HttpRequest) -> JsonResponse:
    """200 while the process serves requests; no database, cache or broker is touched."""
    return JsonResponse({"status": "ok"})
