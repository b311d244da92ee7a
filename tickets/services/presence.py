"""Presence: who has a ticket's workspace open, refreshed by the page while it is open.

This is the one write of tickets that keeps no history. A presence row is not business state
(the ticket, its messages and its people stay as they were) and it expires on its own after
PRESENCE_TTL; an audit row per heartbeat would be noise that outweighs the ticket's real
history. The row is upserted in one statement, so two pages of the same user racing each
other cannot collide on the unique (ticket, user) pair.
"""

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models.roles import WORKING_ROLES
from core.models.user import User
from tickets.models import PRESENCE_TTL, Ticket, TicketViewer


@transaction.atomic
def presence_touch(*, ticket: Ticket, user: User, now: datetime | None = None) -> None:
    """Record that the user has the ticket open now, and forget who left it long ago.

    The caller has looked the ticket up as the user (they may read it); only people who
    work tickets are shown to each other.
    """
    if not user.has_role(*WORKING_ROLES):
        raise PermissionDenied(_("Only people who work tickets use the agent console."))
    now = now or timezone.now()
    TicketViewer.objects.bulk_create(
        [TicketViewer(ticket=ticket, user=user, last_seen=now)],
        update_conflicts=True, unique_fields=["ticket", "user"], update_fields=["last_seen"])
    # Expired rows of this ticket go as the next viewer arrives: the table stays as small
    # as the number of open workspaces, with no sweep to schedule.
    TicketViewer.objects.filter(ticket=ticket, last_seen__lt=now - PRESENCE_TTL).delete()
