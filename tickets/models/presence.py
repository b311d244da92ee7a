"""Who has a ticket open right now: presence, not business state.

A row says "this user had this ticket open at `last_seen`"; the workspace refreshes it while
the page is open and shows the others whose row is fresh. Nothing about the ticket changes,
so presence keeps no history and writes no audit row: an audit trail of page views would
bury the ticket's real changes under a heartbeat every 20 seconds, and a stale row means
nothing once it has expired. The table lives in the database (rather than a process's
memory) so every web process sees the same viewers with no extra service, SQLite included.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tickets.models.ticket import Ticket

# A viewer whose page has not checked in for this long has left (the page checks in every
# 20 seconds, so one or two missed beats do not make a colleague vanish).
PRESENCE_TTL = timedelta(seconds=60)


class TicketViewer(models.Model):
    """A user who has the ticket's workspace open, and when their page last checked in."""

    ticket = models.ForeignKey(Ticket, models.CASCADE, related_name="viewers",
                               verbose_name=_("ticket"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+",
                             verbose_name=_("user"))
    last_seen = models.DateTimeField(_("last seen"))

    class Meta:
        verbose_name = _("ticket viewer")
        verbose_name_plural = _("ticket viewers")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "user"], name="ticket_viewer_unique"),
        ]
        indexes = [
            # The workspace asks "who else is fresh on this ticket": ticket first, then time.
            models.Index(fields=["ticket", "last_seen"], name="ticket_viewer_fresh_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.user_id} @ {self.last_seen:%H:%M:%S}"
