"""Install the default rule table and approval limits, with the history rows they need.

Used by the data migration (with the migration's historical models) and by tests that empty
the database between cases (with the live models). Historical models do not write
django-simple-history rows by themselves, so the rows are written here: every shipped rule
has a version that decisions can cite.
"""

from typing import Any

from django.db.migrations.state import StateApps
from django.utils import timezone

from core.services.audit import initial_history_row
from policies.services.defaults import DEFAULT_APPROVAL_LIMITS, DEFAULT_RULES

REASON = "default table"


def _plain(value: Any) -> Any:
    return sorted(value) if isinstance(value, frozenset | set) else value


def install_defaults(apps: StateApps) -> int:
    """Create the default rules and limits that are missing; return how many rules were made."""

    policy_rule = apps.get_model("policies", "PolicyRule")
    historical_rule = apps.get_model("policies", "HistoricalPolicyRule")
    approval_limit = apps.get_model("policies", "ApprovalLimit")
    historical_limit = apps.get_model("policies", "HistoricalApprovalLimit")
    now = timezone.now()
    created = 0
    for row in DEFAULT_RULES:
        values = {key: _plain(value) for key, value in row.items()}
        if policy_rule.objects.filter(name=values["name"], kind=values["kind"]).exists():
            continue
        rule = policy_rule.objects.create(**values)
        initial_history_row(historical_rule, rule, when=now, reason=REASON).save()
        created += 1
    for role, amount in DEFAULT_APPROVAL_LIMITS.items():
        limit, was_created = approval_limit.objects.get_or_create(
            role=role, defaults={"max_amount": amount, "note": REASON})
        if was_created:
            initial_history_row(historical_limit, limit, when=now, reason=REASON).save()
    return created


def remove_defaults(apps: StateApps) -> None:

    policy_rule = apps.get_model("policies", "PolicyRule")
    for row in DEFAULT_RULES:
        policy_rule.objects.filter(name=row["name"], kind=row["kind"]).delete()
