"""Background jobs of resolutions (django-q2); each takes ids and calls one service."""

from resolutions.models import Resolution, ResolutionState
from resolutions.services import resolutions, sweeps

SCHEDULES = [("Resolution sweep", "resolutions.tasks.resolution_sweep_task", 5)]

EXECUTABLE = (ResolutionState.APPROVED, ResolutionState.RETURN_RECEIVED,
              ResolutionState.AWAITING_RETURN)


def resolution_execute_task(resolution_id: int) -> str:
    """Execute an approved resolution; a second run does nothing, a refusal is never silent."""
    state = Resolution.objects.filter(pk=resolution_id).values_list("state", flat=True).first()
    if state not in EXECUTABLE:
        return f"skipped: {state}"
    return resolutions.resolution_execute_for_worker(resolution_id=resolution_id)


def resolution_sweep_task() -> dict:
    """Retry payments, chase return parcels and step in for silent merchants."""
    return sweeps.run_all()
