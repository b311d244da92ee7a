"""Writes to the rule table and the approval limits beyond a plain admin edit.

Plain adds, edits and imports of rules and limits go through `core.services.admin_writes`; what
has a rule of its own (cloning, retiring) is here. History reasons are stable keys.
"""

from collections.abc import Iterable

from django.db import transaction

from core.models.user import User
from core.services.admin_writes import require_model_permission
from core.services.audit import save_with_history
from policies.models import PolicyRule


@transaction.atomic
def policy_rules_clone(*, rules: Iterable[PolicyRule], actor: User) -> int:
    """Copy each rule as an inactive rule named "(copy)"; return how many were copied."""
    require_model_permission(actor, PolicyRule, "add")
    copied = 0
    for rule in rules:
        rule.pk = None
        rule.name = f"{rule.name} (copy)"
        rule.name_zh = f"{rule.name_zh}（副本）" if rule.name_zh else ""
        rule.is_active = False
        save_with_history(rule, actor=actor, reason="admin:clone")
        copied += 1
    return copied


@transaction.atomic
def policy_rules_deactivate(*, rules: Iterable[PolicyRule], actor: User) -> int:
    """Retire the active rules among `rules` (rules are never deleted: decisions cite them)."""
    require_model_permission(actor, PolicyRule, "change")
    retired = 0
    for rule in rules:
        if not rule.is_active:
            continue
        rule.is_active = False
        save_with_history(rule, actor=actor, reason="admin:deactivate",
                          update_fields=["is_active"])
        retired += 1
    return retired
