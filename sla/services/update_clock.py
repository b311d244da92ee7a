"""Planning the customer's next progress update; the SLA sweep sends it when it falls due."""

from datetime import datetime

from core.db.inserts import upsert
from sla.models import CustomerUpdateClock
from sla.services import calendar as sla
from sla.services.calendar import PolicySource
from tickets.models import Ticket


def customer_update_plan(*, ticket: Ticket, due_at: datetime | None) -> None:
    """Plan the ticket's next customer update for `due_at` (None: no more updates)."""
    clock = CustomerUpdateClock(ticket=ticket, due_at=due_at)
    # One upsert: the row exists from the ticket's creation on, except for bulk-loaded
    # tickets that were already closed.
    upsert([clock], unique_fields=["ticket"], update_fields=["due_at"])
    ticket.update_clock = clock


def customer_update_plan_next(*, ticket: Ticket, after: datetime,
                              config: PolicySource | None = None) -> None:
    """Plan the next update one update interval (of the ticket's SLA policy) after `after`.

    `config`: the routing configuration in memory (routing.services.config), if the caller
    has it, saves reading the SLA policy again."""
    terms = sla.terms_for(priority=ticket.priority, complaint_level=ticket.complaint_level,
                          config=config)
    customer_update_plan(ticket=ticket, due_at=sla.customer_update_due_at(after=after, terms=terms))
