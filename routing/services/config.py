"""The routing rules, SLA policies and default team, kept in memory per process.

Intake needs all three for every new ticket, and they change a few times a year. Each
worker process keeps the last copy it read with the version of RoutingConfigVersion it was
read under; one primary-key lookup per use tells whether it is still current. Triggers on
the three tables move that version in the same transaction as the change (migration 0022),
so a rule edited in the admin routes the very next ticket in every process.

Read order matters: the version first, then the tables. A change committed in between is
then read under the older version number, and the next use sees the newer number and reads
again; a copy is never labelled newer than what it holds.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import connections

from routing.models import RoutingConfigVersion, RoutingRule
from sla.models import SlaPolicy
from tickets.models import ComplaintLevel, Team


@dataclass(frozen=True)
class RoutingConfig:
    rules: tuple[RoutingRule, ...]  # the active rules in order, each with its team read
    sla_policies: dict  # (priority, complaint level) -> SlaPolicy
    default_team: Team | None  # where tickets no rule routes go

    def sla_policy(self, *, priority: int, complaint_level: str) -> SlaPolicy | None:
        """The policy of the priority and level, else the priority's general one."""
        return (self.sla_policies.get((priority, complaint_level))
                or self.sla_policies.get((priority, ComplaintLevel.NONE)))


# One fixed statement, the table's name taken from its model.
VERSION_SQL = f"SELECT version FROM {RoutingConfigVersion._meta.db_table} WHERE id = 1"  # noqa: S608
_cache: dict[str, tuple[int, RoutingConfig]] = {}  # database alias -> (version, copy)


def current_version(using: str = "default") -> int | None:
    """The configuration's version now; None where the counter row is missing (a test
    database emptied by TRUNCATE): then nothing is cached and every use reads afresh."""
    with connections[using].cursor() as cursor:
        cursor.execute(VERSION_SQL)
        row = cursor.fetchone()
    return row[0] if row else None


def _read(using: str) -> RoutingConfig:
    rules = tuple(RoutingRule.objects.using(using).filter(is_active=True).select_related("team"))
    policies = {(policy.priority, policy.complaint_level): policy
                for policy in SlaPolicy.objects.using(using).all()}
    default_team = Team.objects.using(using).filter(code=settings.ROUTING_DEFAULT_TEAM,
                                                    is_active=True).first()
    return RoutingConfig(rules=rules, sla_policies=policies, default_team=default_team)


def routing_config(using: str = "default") -> RoutingConfig:
    """Return the current routing configuration (one query while the cached copy holds)."""
    version = current_version(using)
    cached = _cache.get(using)
    if version is not None and cached is not None and cached[0] == version:
        return cached[1]
    config = _read(using)
    if version is not None:
        _cache[using] = (version, config)
    return config
