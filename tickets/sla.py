"""Initial SLA due times for a new ticket, from the time limits of the source material.

Per-priority and per-level SLA tables that supervisors edit replace these constants with
the routing work; the shape (due times stamped at creation) stays.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from tickets.models import ComplaintLevel

FIRST_RESPONSE = timedelta(hours=2)  # 2 h without a response triggers a reminder [004]
CUSTOMER_UPDATE_INTERVAL = timedelta(hours=8)  # progress update every 8 h [004]
RESOLUTION_BY_LEVEL = {
    ComplaintLevel.L1: timedelta(hours=24),  # closed within 24 h [001]
    ComplaintLevel.L2: timedelta(hours=48),  # written reply within 48 h [001]
    ComplaintLevel.L3: timedelta(hours=72),  # reported to management within 72 h [001]
}
DEFAULT_RESOLUTION = timedelta(hours=48)  # unresolved after 48 h: priority raised [000]


@dataclass(frozen=True)
class DueTimes:
    first_response_due_at: datetime
    resolution_due_at: datetime
    next_update_due_at: datetime


def initial_due_times(*, created_at: datetime, complaint_level: str) -> DueTimes:
    """Return the due times of a ticket created at `created_at`."""
    return DueTimes(
        first_response_due_at=created_at + FIRST_RESPONSE,
        resolution_due_at=created_at + RESOLUTION_BY_LEVEL.get(complaint_level, DEFAULT_RESOLUTION),
        next_update_due_at=created_at + CUSTOMER_UPDATE_INTERVAL,
    )


def resolution_due_after_escalation(*, created_at: datetime, level: str, current: datetime | None,
                                    paused_seconds: int) -> datetime:
    """Return the resolution due time under a new complaint level, never later than before."""
    due = created_at + RESOLUTION_BY_LEVEL.get(level, DEFAULT_RESOLUTION) + timedelta(
        seconds=paused_seconds
    )
    return min(due, current) if current else due
