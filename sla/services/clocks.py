"""The SLA clocks as the ticket services call them (tickets.services.lifecycle.Clocks).

The sla app registers this module at start-up (SlaConfig.ready): a ticket's due times and
its customer-update clock are set here whenever tickets opens, escalates, pauses or closes one.
"""

from typing import Any

from sla.services import calendar
from sla.services.update_clock import customer_update_plan, customer_update_plan_next
from tickets.models import Ticket


def stamp_due_times(ticket: Ticket, *, keep_first_response: bool = False,
                    config: Any = None) -> None:
    """Set the due times from the SLA policy of the ticket's priority and level."""
    due = calendar.due_times(
        created_at=ticket.created_at,
        terms=calendar.terms_for(priority=ticket.priority, complaint_level=ticket.complaint_level,
                                 config=config),
        paused_seconds=ticket.paused_seconds,
    )
    if not (keep_first_response and ticket.first_response_at):
        ticket.first_response_due_at = due.first_response_due_at
    ticket.resolution_due_at = due.resolution_due_at


# The customer-update clock's own services, under the names the lifecycle calls.
plan_update = customer_update_plan
plan_next_update = customer_update_plan_next
