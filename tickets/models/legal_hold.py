"""A legal hold: risk and legal freeze a ticket's order data and resolutions (法务冻结)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from tickets.models.ticket import Ticket


class LegalHold(models.Model):
    """While active, the ticket's order data and its resolutions may not change (法务冻结)."""

    ticket = models.ForeignKey(Ticket, models.PROTECT, related_name="legal_holds",
                               verbose_name=_("ticket"))
    reason = models.TextField(_("reason"), max_length=2000)
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT,
                                  related_name="legal_holds_placed", verbose_name=_("placed by"))
    placed_at = models.DateTimeField(_("placed at"))
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                    blank=True, related_name="legal_holds_released",
                                    verbose_name=_("released by"))
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    release_reason = models.TextField(_("reason for release"), blank=True, max_length=2000)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        ordering = ["-placed_at"]
        constraints = [
            models.UniqueConstraint(fields=["ticket"], condition=Q(released_at__isnull=True),
                                    name="legal_hold_one_active_per_ticket"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket.number} · {self.placed_at:%Y-%m-%d}"

    @property
    def is_active(self) -> bool:
        return self.released_at is None
