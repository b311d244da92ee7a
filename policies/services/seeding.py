"""Install the default rule table and approval limits, with the history rows they need.

Used by the data migration (with the migration's historical models) and by tests that empty
the database between cases (with the live models). Historical models do not write
django-simple-history rows by themselves, so the rows are written here: every shipped rule
has a version that decisions can cite.
"""

from typing import Any

from django.db.migrations.state import StateApps
from django.utils import timezone

from core.services import audit_chain
from core.services.audit import initial_history_row
from policies.services.defaults import DEFAULT_APPROVAL_LIMITS, DEFAULT_RULES, ISSUE_16_RULES

REASON = "default table"
# Columns added after the rows were first shipped that only describe a rule (they change no
# decision): a migration older than them seeds the row without them, and the migration that
# adds them fills them in (0008 for the explanations).
DESCRIPTIVE_COLUMNS = frozenset({"explanation_zh", "explanation_en"})


def _plain(value: Any) -> Any:
    return sorted(value) if isinstance(value, frozenset | set) else value


def _row_for(row: dict[str, Any], columns: set[str]) -> dict[str, Any]:
    """Return the row without the descriptive columns the model does not have yet."""
    return {key: value for key, value in row.items()
            if key in columns or key not in DESCRIPTIVE_COLUMNS}


def install_defaults(apps: StateApps) -> int:
    """Create the default rules and limits that are missing; return how many rules were made."""

    policy_rule = apps.get_model("policies", "PolicyRule")
    historical_rule = apps.get_model("policies", "HistoricalPolicyRule")
    approval_limit = apps.get_model("policies", "ApprovalLimit")
    historical_limit = apps.get_model("policies", "HistoricalApprovalLimit")
    now = timezone.now()
    created = 0
    # A migration's model has the columns of its time: a row that needs a later column is
    # left to the data migration that comes with that column (0006 for issue 16's).
    columns = {field.name for field in policy_rule._meta.concrete_fields}
    for shipped in DEFAULT_RULES:
        row = _row_for(shipped, columns)
        if not set(row) <= columns:
            continue
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


def update_defaults(apps: StateApps, *, reason: str) -> tuple[int, int]:
    """Bring the default rows to the shipped values; return (rules created, rules updated).

    Rows are keyed by name and kind. Missing rows are created; the rows of ISSUE_16_RULES are
    set to the shipped values where they differ (each change written to the history with
    `reason`), so running it twice changes nothing the second time.
    """
    policy_rule = apps.get_model("policies", "PolicyRule")
    historical_rule = apps.get_model("policies", "HistoricalPolicyRule")
    created = install_defaults(apps)
    now = timezone.now()
    changed = set(ISSUE_16_RULES)
    columns = {field.name for field in policy_rule._meta.concrete_fields}
    updated = 0
    for shipped in DEFAULT_RULES:
        if (shipped["name"], shipped["kind"]) not in changed:
            continue
        row = _row_for(shipped, columns)
        rule = policy_rule.objects.filter(name=row["name"], kind=row["kind"]).first()
        if rule is None:
            continue
        # Every condition the shipped row leaves out goes back to its default ("any").
        wanted = {field.attname: field.get_default() for field in policy_rule._meta.concrete_fields
                  if field.attname not in {"id", "created_at", "name", "kind", "is_active",
                                           "effective_from", "effective_to"}}
        wanted.update({key: _plain(value) for key, value in row.items()})
        differs = {key: value for key, value in wanted.items() if getattr(rule, key) != value}
        if not differs:
            continue
        # update(), not save(): the history row is written here, also with live models.
        policy_rule.objects.filter(pk=rule.pk).update(**differs)
        rule.refresh_from_db()
        history: Any = initial_history_row(historical_rule, rule, when=now, reason=reason)
        history.history_type = "~"  # a change, not a creation
        if audit_chain.is_chained(historical_rule):
            audit_chain.seal([history])  # after the row's existing history, not a new chain
        history.save()
        updated += 1
    return created, updated


def fill_explanations(apps: StateApps, *, reason: str) -> int:
    """Give every default row without them its names' plain explanations; return how many.

    Rows keyed by name and kind; a row whose explanations someone has already written keeps
    them. Each change is written to the history with `reason` (a new rule set version, so
    the next decision shows the explanations).
    """
    policy_rule = apps.get_model("policies", "PolicyRule")
    historical_rule = apps.get_model("policies", "HistoricalPolicyRule")
    now = timezone.now()
    filled = 0
    for row in DEFAULT_RULES:
        rule = policy_rule.objects.filter(name=row["name"], kind=row["kind"]).first()
        if rule is None:
            continue
        missing = {key: row[key] for key in sorted(DESCRIPTIVE_COLUMNS)
                   if not getattr(rule, key) and row.get(key)}
        if not missing:
            continue
        policy_rule.objects.filter(pk=rule.pk).update(**missing)
        rule.refresh_from_db()
        history: Any = initial_history_row(historical_rule, rule, when=now, reason=reason)
        history.history_type = "~"
        if audit_chain.is_chained(historical_rule):
            audit_chain.seal([history])
        history.save()
        filled += 1
    return filled
