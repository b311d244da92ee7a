"""The log of every time someone saw a customer's full contact details.

Contact details are shown masked everywhere; seeing them in full is a deliberate act with a
stated reason (`supervision.services.privacy.customer_contact_reveal`), and each one leaves a
row here. The log is evidence for QA and risk/legal, so it is append-only: rows are never
changed or deleted, by the model (below) and by permission (only "view" exists).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shop.models import Customer
from tickets.models.ticket import Ticket

REVEAL_REASON_MAX_LENGTH = 200


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete a row of an append-only log."""


class ContactRevealQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("The contact reveal log is append-only.")

    def delete(self):
        raise AppendOnlyError("The contact reveal log is append-only.")


class ContactReveal(models.Model):
    """One reveal: who saw whose contact details, when, why, and for which ticket."""

    customer = models.ForeignKey(Customer, models.PROTECT, related_name="contact_reveals",
                                 verbose_name=_("customer"))
    revealed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT,
                                    related_name="contact_reveals", verbose_name=_("revealed by"))
    ticket = models.ForeignKey(Ticket, models.PROTECT, null=True, blank=True,
                               related_name="contact_reveals", verbose_name=_("ticket"))
    reason = models.CharField(_("reason"), max_length=REVEAL_REASON_MAX_LENGTH)
    revealed_at = models.DateTimeField(_("revealed at"), default=timezone.now)

    objects = ContactRevealQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact reveal")
        verbose_name_plural = _("contact reveals")
        ordering = ["-revealed_at", "-id"]
        # Rows are only ever added by the reveal service: nobody gets add, change or delete.
        default_permissions = ("view",)
        indexes = [
            models.Index(fields=["customer", "-revealed_at"], name="reveal_customer_idx"),
            models.Index(fields=["revealed_by", "-revealed_at"], name="reveal_user_idx"),
            models.Index(fields=["-revealed_at"], name="reveal_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.revealed_by} → {self.customer} ({self.revealed_at:%Y-%m-%d %H:%M})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("The contact reveal log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("The contact reveal log is append-only.")
