"""Writes of the SLA sweeps: a batch of due tickets changed at once, with its history rows.

`sla.services.sweeps` finds the due rows, decides and notifies; these store what it decided.
Each batch is written in a few set-based statements, never a save per ticket, and its
history rows name the system account and a stable "sla:…" reason.
"""

from collections.abc import Mapping
from datetime import datetime

from django.db import transaction
from simple_history.utils import bulk_update_with_history

from core.services.accounts import system_user
from sla.models import CustomerUpdateClock
from tickets.models import Ticket

BATCH = 500


def sla_tickets_save(*, tickets: list[Ticket], fields: list[str], reason: str) -> None:
    """Save each ticket's own values of `fields` (one CASE per field), with history."""
    bulk_update_with_history(tickets, Ticket, fields, batch_size=BATCH,
                             default_user=system_user(), default_change_reason=reason)


def sla_tickets_stamp(*, tickets: list[Ticket], reason: str, columns: Mapping) -> None:
    """Save what the whole batch shares with one plain UPDATE, with history.

    The caller has set the same values on the tickets in memory; `columns` says them in
    SQL (a value or an expression), which costs far less than a CASE per ticket.
    """
    with transaction.atomic(savepoint=False):
        Ticket.objects.filter(pk__in=[ticket.pk for ticket in tickets]).update(**columns)
        Ticket.history.bulk_history_create(tickets, update=True, default_user=system_user(),
                                           default_change_reason=reason)


def customer_update_clocks_move(*, due_at: Mapping[datetime, list[int]]) -> None:
    """Move the customer-update clocks to their next due time ({due time: clock ids}).

    One UPDATE per distinct time (one per SLA policy), not a CASE per clock.
    """
    for when, ids in due_at.items():
        CustomerUpdateClock.objects.filter(pk__in=ids).update(due_at=when)
