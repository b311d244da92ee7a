"""The database edge of the policy engine: rule rows in, compiled rules out, cached by version.

The version of the rule set is the newest history id of the rule table, so any edit (or
deletion) gives a new version and the next decision compiles the table again; until then
every decision reuses the compiled rules without touching the rows.
"""

import threading
from dataclasses import fields as dataclass_fields
from decimal import Decimal
from typing import Any

from django.db.models import Max, OuterRef, QuerySet, Subquery

from policies import engine
from policies.models import ApprovalLimit, PolicyRule

_LIST_FIELDS = ("categories", "required_flags", "excluded_flags", "reasons", "item_conditions",
                "order_stages", "customer_tiers", "evidence_any", "evidence_absent")
_COPIED_FIELDS = [
    field.name for field in dataclass_fields(engine.Rule)
    if field.name not in {"id", "version", "active", *_LIST_FIELDS}
]

_lock = threading.Lock()
_compiled: dict[str, tuple[int, engine.CompiledRules]] = {}
_limits: dict[str, tuple[int, dict[str, Decimal | None]]] = {}


def rule_history() -> QuerySet[Any]:
    """Return the rule table's history rows; the newest id is the rule set's version."""
    history: QuerySet[Any] = PolicyRule.history.all()  # simple_history ships no types
    return history


def ruleset_version() -> int:
    """Return the version of the rule table: its newest history id (0 when empty)."""
    return rule_history().aggregate(version=Max("history_id"))["version"] or 0


def rule_from_row(row: PolicyRule, version: int) -> engine.Rule:
    """Turn a rule row into the engine's frozen Rule."""
    values = {name: getattr(row, name) for name in _COPIED_FIELDS}
    for name in _LIST_FIELDS:
        values[name] = frozenset(getattr(row, name) or ())
    for name, value in values.items():
        if isinstance(value, float):  # JSON never holds money, but be strict about it
            values[name] = Decimal(str(value))
    return engine.Rule(id=row.pk, version=version, active=row.is_active, **values)


def load_rules() -> list[engine.Rule]:
    """Return every rule row as an engine Rule, each with the history id of its latest edit."""
    latest_edit = (
        PolicyRule.history.filter(id=OuterRef("pk")).order_by("-history_id").values("history_id")[:1]
    )
    rows = PolicyRule.objects.annotate(version=Subquery(latest_edit)).order_by("priority", "id")
    return [rule_from_row(row, row.version or 0) for row in rows]


def current_rules(version: int | None = None) -> tuple[int, engine.CompiledRules]:
    """Return (version, compiled rules), compiling again only when the table has changed.

    `version` is the table's version where the caller has just read it (with a ticket's
    facts, in the same query); otherwise it is read here. Either way it is read for every
    decision, so a rule change is seen by the next one.
    """
    if version is None:
        version = ruleset_version()
    cached = _compiled.get("rules")
    if cached is not None and cached[0] == version:
        return cached
    with _lock:
        cached = _compiled.get("rules")
        if cached is None or cached[0] != version:
            cached = (version, engine.compile_rules(load_rules()))
            _compiled["rules"] = cached
    return cached


def limits_history() -> QuerySet[Any]:
    """Return the approval limits' history rows; the newest id is the limits' version."""
    history: QuerySet[Any] = ApprovalLimit.history.all()  # simple_history ships no types
    return history


def limits_version() -> int:
    """Return the version of the approval limits: their newest history id (0 when none)."""
    return limits_history().aggregate(version=Max("history_id"))["version"] or 0


def current_limits(version: int | None = None) -> dict[str, Decimal | None]:
    """Return role -> largest amount it may approve, read again only when a limit changed.

    An option that needs approval goes to the first role up the ladder whose limit covers
    it (engine.APPROVAL_LADDER), so the limits are part of every decision.
    """
    if version is None:
        version = limits_version()
    cached = _limits.get("limits")
    if cached is not None and cached[0] == version:
        return cached[1]
    limits = dict(ApprovalLimit.objects.values_list("role", "max_amount"))
    with _lock:
        _limits["limits"] = (version, limits)
    return limits


def platform_cap_percent() -> Decimal:
    from django.conf import settings

    return Decimal(settings.POLICY_PLATFORM_CAP_PERCENT)


def decide(facts: engine.Facts, *, version: int | None = None,
           limits_version: int | None = None) -> tuple[int, engine.Decision]:
    """Decide on the facts with the current rule table; return (rule set version, decision).

    `version` and `limits_version`: the rule table's and the approval limits' versions as
    read with the facts (see current_rules and current_limits).
    """
    version, compiled = current_rules(version)
    return version, engine.decide(facts, compiled, platform_cap_percent=platform_cap_percent(),
                                  approval_limits=current_limits(limits_version))
