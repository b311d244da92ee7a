"""Background jobs for tickets; each takes ids and calls one service."""

from tickets.models import Resolution, ResolutionState
from tickets.services import resolutions

EXECUTABLE = (ResolutionState.APPROVED, ResolutionState.RETURN_RECEIVED,
              ResolutionState.AWAITING_RETURN)


def resolution_execute_task(resolution_id: int) -> str:
    """Execute an approved resolution; a second run does nothing, a refusal is never silent."""
    state = Resolution.objects.filter(pk=resolution_id).values_list("state", flat=True).first()
    if state not in EXECUTABLE:
        return f"skipped: {state}"
    return resolutions.resolution_execute_for_worker(resolution_id=resolution_id)


def sla_sweep_task() -> dict:
    """Run the SLA sweeps (scheduled every few minutes)."""
    from tickets import sweeps

    return sweeps.run_all()


def resolution_sweep_task() -> dict:
    """Retry payments, chase return parcels and step in for silent merchants."""
    from tickets import resolution_sweeps

    return resolution_sweeps.run_all()


def qa_sample_task(day: str | None = None) -> dict:
    """Queue yesterday's QA reviews (or those of `day`, YYYY-MM-DD); idempotent."""
    from datetime import date, timedelta

    from django.utils import timezone

    from tickets.services import qa

    when = date.fromisoformat(day) if day else timezone.localdate() - timedelta(days=1)
    return qa.qa_sample_day(day=when)


def metrics_rollup_task(days: int = 2) -> dict:
    """Roll up the dashboard figures of the last `days` local days, today included."""
    from datetime import timedelta

    from django.utils import timezone

    from tickets import metrics

    today = timezone.localdate()
    return metrics.metrics_rollup(start=today - timedelta(days=days - 1), end=today)
