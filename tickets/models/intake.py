"""Bookkeeping for ticket intake: per-day ticket numbers and idempotency keys."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tickets.models.ticket import Ticket


class TicketNumberSequence(models.Model):
    """The last number handed out on a day; its row lock makes numbers unique and gap-free."""

    day = models.DateField(_("day"), primary_key=True)
    last = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("ticket number sequence")
        verbose_name_plural = _("ticket number sequences")

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


class IntakeKey(models.Model):
    """An Idempotency-Key seen on intake, so a retried request returns the same ticket."""

    # Indexed by intake_key_unique_per_user, which begins with it.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, verbose_name=_("user"),
                             db_index=False)
    key = models.CharField(_("key"), max_length=100)
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    ticket = models.ForeignKey(Ticket, models.CASCADE, verbose_name=_("ticket"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("intake idempotency key")
        verbose_name_plural = _("intake idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="intake_key_unique_per_user")
        ]

    def __str__(self) -> str:
        return self.key
