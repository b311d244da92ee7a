"""Agents pull work: claim the most urgent, oldest unassigned ticket of their teams."""

from django.db import connection, transaction

from core.models.user import User
from tickets.models import OPEN_STATES, Ticket, user_team_ids
from tickets.services.tickets import ticket_assign


def ticket_claim_next(*, actor: User) -> Ticket | None:
    """Assign the actor the next ticket of their teams' queues; None when the queues are empty.

    On PostgreSQL the candidate row is locked with SKIP LOCKED, so agents claiming at the
    same moment each get a different ticket instead of waiting on (or colliding over) one.
    """
    teams = list(user_team_ids(actor))
    with transaction.atomic():
        candidates = Ticket.objects.filter(
            team__in=teams, assignee__isnull=True, state__in=OPEN_STATES,
        ).order_by("priority", "created_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        ticket = candidates.first()
        if ticket is None:
            return None
        return ticket_assign(ticket=ticket, actor=actor, assignee=actor, comment="claim next")
