"""Load the default rule table and approval limits (policies/defaults.py), with history rows.

Historical models inside a migration do not write django-simple-history rows by themselves;
the rows are written here so every shipped rule has a version a decision can cite.
"""

from django.db import migrations
from django.utils import timezone

REASON = "default table"


def _plain(value):
    return sorted(value) if isinstance(value, frozenset | set) else value


def _history_row(historical_model, instance, when):
    values = {
        field.attname: getattr(instance, field.attname)
        for field in instance._meta.concrete_fields
    }
    return historical_model(
        **values, history_date=when, history_type="+", history_change_reason=REASON
    )


def load_defaults(apps, schema_editor):
    from policies.defaults import DEFAULT_APPROVAL_LIMITS, DEFAULT_RULES

    PolicyRule = apps.get_model("policies", "PolicyRule")
    HistoricalPolicyRule = apps.get_model("policies", "HistoricalPolicyRule")
    ApprovalLimit = apps.get_model("policies", "ApprovalLimit")
    HistoricalApprovalLimit = apps.get_model("policies", "HistoricalApprovalLimit")
    now = timezone.now()

    for row in DEFAULT_RULES:
        values = {key: _plain(value) for key, value in row.items()}
        if PolicyRule.objects.filter(name=values["name"], kind=values["kind"]).exists():
            continue
        rule = PolicyRule.objects.create(**values)
        _history_row(HistoricalPolicyRule, rule, now).save()

    for role, amount in DEFAULT_APPROVAL_LIMITS.items():
        limit, created = ApprovalLimit.objects.get_or_create(
            role=role, defaults={"max_amount": amount, "note": REASON}
        )
        if created:
            _history_row(HistoricalApprovalLimit, limit, now).save()


def unload_defaults(apps, schema_editor):
    from policies.defaults import DEFAULT_RULES

    PolicyRule = apps.get_model("policies", "PolicyRule")
    for row in DEFAULT_RULES:
        PolicyRule.objects.filter(name=row["name"], kind=row["kind"]).delete()


class Migration(migrations.Migration):
    dependencies = [("policies", "0001_initial")]

    operations = [migrations.RunPython(load_defaults, unload_defaults)]
