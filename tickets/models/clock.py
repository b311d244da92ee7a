"""When the customer of an open ticket next hears how it is going."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tickets.models.ticket import Ticket


class CustomerUpdateClock(models.Model):
    """The SLA sweep's cursor for customer progress updates, one row per ticket.

    It lives apart from the ticket because the sweep moves it for thousands of tickets every
    few minutes: in this narrow table each move touches two small indexes, on the ticket row
    it would touch all twenty of the ticket's. It is bookkeeping, not a decision, so it keeps
    no history; each update sent is recorded in the outbox. `due_at` is empty while no update
    is planned (the ticket is resolved, closed or cancelled).
    """

    ticket = models.OneToOneField(Ticket, models.CASCADE, primary_key=True,
                                  related_name="update_clock", verbose_name=_("ticket"))
    due_at = models.DateTimeField(_("next customer update due"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer update clock")
        verbose_name_plural = _("customer update clocks")
        default_permissions = ("view",)
        indexes = [
            models.Index(fields=["due_at"], name="update_clock_due_idx",
                         condition=Q(due_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.due_at}"
