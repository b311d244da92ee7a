"""Background jobs of the SLA clocks (django-q2)."""

from sla.services import sweeps

# name, task, every N minutes (created in django-q2's schedule table after every migrate)
SCHEDULES = [("SLA sweep", "sla.tasks.sla_sweep_task", 5)]


def sla_sweep_task() -> dict:
    """Run the SLA sweeps (scheduled every few minutes)."""
    return sweeps.run_all()
