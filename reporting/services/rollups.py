"""Writes of the dashboard's daily roll-up rows. `reporting.services.metrics` computes them."""

from datetime import date

from django.db import transaction

from reporting.models import DailyAgentMetrics, DailyRuleTotals

BATCH = 1000


@transaction.atomic(savepoint=False)  # one transaction with the roll-up job, no savepoint
def daily_agent_metrics_replace(*, start: date, end: date,
                                rows: list[DailyAgentMetrics]) -> list[DailyAgentMetrics]:
    """Replace the per-agent roll-up rows of the days from `start` to `end` (inclusive)."""
    DailyAgentMetrics.objects.filter(day__gte=start, day__lte=end).delete()
    return DailyAgentMetrics.objects.bulk_create(rows, batch_size=BATCH)


@transaction.atomic(savepoint=False)  # one transaction with the roll-up job, no savepoint
def daily_rule_totals_replace(*, start: date, end: date,
                              rows: list[DailyRuleTotals]) -> list[DailyRuleTotals]:
    """Replace the per-rule roll-up rows of the days from `start` to `end` (inclusive)."""
    DailyRuleTotals.objects.filter(day__gte=start, day__lte=end).delete()
    return DailyRuleTotals.objects.bulk_create(rows, batch_size=BATCH)
