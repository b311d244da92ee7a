"""Background jobs of reporting (django-q2)."""

from datetime import timedelta

from django.utils import timezone

from reporting.services import metrics

# Keeps today's and yesterday's dashboard figures fresh.
SCHEDULES = [("Metrics roll-up", "reporting.tasks.metrics_rollup_task", 60)]


def metrics_rollup_task(days: int = 2) -> dict:
    """Roll up the dashboard figures of the last `days` local days, today included."""
    today = timezone.localdate()
    return metrics.metrics_rollup(start=today - timedelta(days=days - 1), end=today)
