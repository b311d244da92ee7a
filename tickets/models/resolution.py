"""Resolutions (售后单): what the customer gets for a ticket.

The state machine's transitions, the money rules and the payment gateway live with the
policy engine; the ticket needs to know which resolutions are still open.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField
from simple_history.models import HistoricalRecords

from .shop import MONEY
from .ticket import Ticket


class ResolutionKind(models.TextChoices):
    REFUND_ONLY = "refund_only", _("Refund only")
    RETURN_REFUND = "return_refund", _("Return and refund")
    EXCHANGE = "exchange", _("Exchange")
    REPAIR = "repair", _("Repair")
    REISSUE = "reissue", _("Reissue")
    PARTIAL_REFUND = "partial_refund", _("Partial refund")
    COMPENSATION_COUPON = "compensation_coupon", _("Compensation: coupon")
    COMPENSATION_POINTS = "compensation_points", _("Compensation: points")
    COMPENSATION_CASH = "compensation_cash", _("Compensation: cash")


class ResolutionState(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ACCEPTED = "accepted", _("Accepted by the customer")
    APPROVED = "approved", _("Approved")
    AWAITING_RETURN = "awaiting_return", _("Awaiting the return parcel")
    RETURN_RECEIVED = "return_received", _("Return received")
    EXECUTING = "executing", _("Executing")
    FAILED = "failed", _("Failed")
    MANUAL_REVIEW = "manual_review", _("Manual review")
    COMPLETED = "completed", _("Completed")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


RESOLUTION_OPEN_STATES = (
    ResolutionState.PROPOSED,
    ResolutionState.ACCEPTED,
    ResolutionState.APPROVED,
    ResolutionState.AWAITING_RETURN,
    ResolutionState.RETURN_RECEIVED,
    ResolutionState.EXECUTING,
    ResolutionState.FAILED,
    ResolutionState.MANUAL_REVIEW,
)


class Resolution(ConcurrentTransitionMixin, models.Model):
    ticket = models.ForeignKey(
        Ticket, models.PROTECT, related_name="resolutions", verbose_name=_("ticket")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ResolutionKind.choices)
    state = FSMField(
        _("state"), max_length=20, choices=ResolutionState.choices,
        default=ResolutionState.PROPOSED, protected=True,
    )
    refund_amount = models.DecimalField(_("refund amount"), **MONEY, default=Decimal("0.00"))
    compensation_amount = models.DecimalField(
        _("compensation amount"), **MONEY, default=Decimal("0.00")
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
        related_name="proposed_resolutions", verbose_name=_("proposed by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("resolution")
        verbose_name_plural = _("resolutions")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_state_display()})"
