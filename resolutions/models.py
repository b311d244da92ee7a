"""Resolutions (售后单): what the customer gets for a ticket, as an audited state machine.

proposed ─▶ accepted (the customer agreed) ─▶ approved (within policy, or by a role)
  ─▶ [awaiting_return ─▶ return_received]   (kinds that need the goods back)
  ─▶ executing ─▶ completed
failures: executing ─▶ failed ─▶ manual_review ─▶ executing | completed
refused by the money check before paying: approved | awaiting_return | return_received | failed
  ─▶ manual_review
any open state except executing ─▶ rejected | cancelled

Each resolution keeps the decision that allowed it: the rule and its history version, the
facts it was decided on and the explanation shown to the agent.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

from core.services.audit_chain import ChainedHistory
from policies.models import ResolutionKind
from shop.models import MONEY, Order, OrderItem
from tickets.models.ticket import Ticket

# Kinds that need the goods back before anything is paid or sent.
RETURN_KINDS = (ResolutionKind.RETURN_REFUND, ResolutionKind.EXCHANGE, ResolutionKind.REPAIR,
                ResolutionKind.RECALL)


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


RS = ResolutionState
RESOLUTION_OPEN_STATES = (
    RS.PROPOSED, RS.ACCEPTED, RS.APPROVED, RS.AWAITING_RETURN, RS.RETURN_RECEIVED, RS.EXECUTING,
    RS.FAILED, RS.MANUAL_REVIEW,
)
# Money may be moving while executing, so that state cannot be rejected or cancelled.
_STOPPABLE = [state for state in RESOLUTION_OPEN_STATES if state != RS.EXECUTING]


class Resolution(ConcurrentTransitionMixin, models.Model):
    OPEN_STATES = RESOLUTION_OPEN_STATES  # read by Ticket.has_no_open_resolutions

    ticket = models.ForeignKey(
        Ticket, models.PROTECT, related_name="resolutions", verbose_name=_("ticket")
    )
    order_item = models.ForeignKey(
        OrderItem, models.PROTECT, null=True, blank=True, related_name="resolutions",
        verbose_name=_("order item"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ResolutionKind.choices)
    state = FSMField(
        _("state"), max_length=20, choices=ResolutionState.choices,
        default=ResolutionState.PROPOSED, protected=True,
    )

    # What the decision said, copied so later rule edits never change a granted resolution.
    verdict = models.CharField(_("verdict"), max_length=16, default="allow")
    approval_role = models.CharField(_("approving role"), max_length=24, blank=True)
    refund_amount = models.DecimalField(_("refund amount"), **MONEY, default=Decimal("0.00"))
    compensation_amount = models.DecimalField(
        _("compensation amount"), **MONEY, default=Decimal("0.00")
    )
    coupon_amount = models.DecimalField(_("coupon amount"), **MONEY, default=Decimal("0.00"))
    points = models.PositiveIntegerField(_("points"), default=0)
    freight_payer = models.CharField(_("freight payer"), max_length=10, blank=True)
    payer = models.CharField(_("who bears the money"), max_length=10, default="merchant")
    auto_execute = models.BooleanField(_("executes automatically"), default=False)
    rule = models.ForeignKey(
        "policies.PolicyRule", models.SET_NULL, null=True, blank=True,
        related_name="resolutions", verbose_name=_("rule"),
    )
    rule_name = models.CharField(_("rule name"), max_length=120, blank=True)
    rule_version = models.PositiveBigIntegerField(_("rule version"), null=True, blank=True)
    ruleset_version = models.PositiveBigIntegerField(_("rule set version"), null=True, blank=True)
    facts = models.JSONField(_("facts decided on"), default=dict, blank=True)
    explanation = models.JSONField(_("explanation"), default=list, blank=True)

    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
        related_name="proposed_resolutions", verbose_name=_("proposed by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
        related_name="approved_resolutions", verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    return_carrier = models.CharField(_("return carrier"), max_length=40, blank=True)
    return_tracking_number = models.CharField(_("return tracking number"), max_length=64,
                                              blank=True)
    return_shipped_at = models.DateTimeField(_("return shipped at"), null=True, blank=True)
    return_received_at = models.DateTimeField(_("return received at"), null=True, blank=True)
    executed_at = models.DateTimeField(_("execution started at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("execution attempts"), default=0)
    failure_reason = models.TextField(_("failure reason"), blank=True)
    closing_reason = models.TextField(_("reason for rejecting or cancelling"), blank=True)
    # The key the payment gateway sees on every attempt, so a retry never pays twice.
    idempotency_key = models.UUIDField(_("idempotency key"), default=uuid.uuid4, unique=True,
                                       editable=False)

    history = HistoricalRecords(bases=[ChainedHistory])

    class Meta:
        verbose_name = _("resolution")
        verbose_name_plural = _("resolutions")
        ordering = ["created_at", "id"]
        permissions = [("approve_resolution", _("Can approve resolutions"))]
        indexes = [models.Index(fields=["state", "created_at"], name="resolution_state_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_state_display()})"

    @property
    def needs_return(self) -> bool:
        return self.kind in RETURN_KINDS

    @property
    def amount(self) -> Decimal:
        """Return the money this resolution moves (refund, cash compensation and coupon)."""
        return self.refund_amount + self.compensation_amount + self.coupon_amount

    def is_open(self) -> bool:
        return self.state in RESOLUTION_OPEN_STATES

    def has_return_to_wait_for(self) -> bool:
        """The transition condition of await_return (a condition is called, not read)."""
        return self.needs_return

    # --- transitions: fields on self only ------------------------------------------------
    @transition(field=state, source=RS.PROPOSED, target=RS.ACCEPTED)
    def accept(self, *, at) -> None:
        """Record that the customer agreed to this resolution."""
        self.accepted_at = at

    @transition(field=state, source=RS.ACCEPTED, target=RS.APPROVED)
    def approve(self, *, by, at) -> None:
        """Approve: automatically within policy (by=None) or by a role."""
        self.approved_by = by
        self.approved_at = at

    @transition(field=state, source=RS.APPROVED, target=RS.AWAITING_RETURN,
                # django-fsm-2 types a condition as a check of any Model.
                conditions=[has_return_to_wait_for])  # type: ignore[list-item]
    def await_return(self) -> None:
        """Wait for the customer's return parcel."""

    @transition(field=state, source=RS.AWAITING_RETURN, target=RS.RETURN_RECEIVED)
    def receive_return(self, *, at) -> None:
        """The warehouse has the goods back."""
        self.return_received_at = at

    @transition(field=state, source=[RS.APPROVED, RS.RETURN_RECEIVED, RS.AWAITING_RETURN],
                target=RS.EXECUTING)
    def execute(self, *, at) -> None:
        """Start paying out or sending what was granted."""
        self.executed_at = at
        self.attempts += 1

    @transition(field=state, source=RS.EXECUTING, target=RS.COMPLETED)
    def complete(self, *, at) -> None:
        self.completed_at = at
        self.failure_reason = ""

    @transition(field=state, source=RS.EXECUTING, target=RS.FAILED)
    def fail(self, *, reason: str) -> None:
        self.failure_reason = reason

    @transition(field=state, source=RS.FAILED, target=RS.EXECUTING)
    def retry_failed(self, *, at) -> None:
        """Try the gateway again after a failure (the scheduler, with back-off)."""
        self.executed_at = at
        self.attempts += 1

    @transition(field=state, source=RS.FAILED, target=RS.MANUAL_REVIEW)
    def review(self) -> None:
        """Hand a failed execution to a person (closed account, frozen card, ...)."""

    @transition(field=state, target=RS.MANUAL_REVIEW,
                source=[RS.APPROVED, RS.AWAITING_RETURN, RS.RETURN_RECEIVED, RS.FAILED])
    def refer_for_review(self, *, reason: str) -> None:
        """Hand to a person an execution the money check refused before anything was paid."""
        self.failure_reason = reason

    @transition(field=state, source=RS.MANUAL_REVIEW, target=RS.EXECUTING)
    def retry(self, *, at) -> None:
        self.executed_at = at
        self.attempts += 1

    @transition(field=state, source=RS.MANUAL_REVIEW, target=RS.COMPLETED)
    def complete_manually(self, *, at) -> None:
        """Settled outside the gateway (another payment method), recorded by a person."""
        self.completed_at = at

    @transition(field=state, source=_STOPPABLE, target=RS.REJECTED)
    def reject(self, *, reason: str) -> None:
        self.closing_reason = reason

    @transition(field=state, source=_STOPPABLE, target=RS.CANCELLED)
    def cancel(self, *, reason: str) -> None:
        self.closing_reason = reason


class PayoutKind(models.TextChoices):
    REFUND = "refund", _("Refund")
    COMPENSATION = "compensation", _("Cash compensation")
    COUPON = "coupon", _("Coupon")
    POINTS = "points", _("Points")


class PayoutState(models.TextChoices):
    RESERVED = "reserved", _("Reserved")
    PAID = "paid", _("Paid out")
    RELEASED = "released", _("Released")


# Payout states that count against what was paid: reserved money may be leaving right now.
PAYOUT_ACTIVE_STATES = (PayoutState.RESERVED, PayoutState.PAID)


class Payout(models.Model):
    """The ledger of what goes to the customer: money, coupons or points, one row per payment.

    A row is reserved under the order lock before the gateway is called, then marked paid
    (with the gateway's reference) or released when the payment failed; a retry reserves
    the released row again. Reserved and paid refunds together never exceed what the order
    and the item were paid.
    """

    resolution = models.ForeignKey(Resolution, models.PROTECT, related_name="payouts",
                                   verbose_name=_("resolution"))
    order = models.ForeignKey(Order, models.PROTECT, related_name="payouts",
                              verbose_name=_("order"))
    order_item = models.ForeignKey(
        OrderItem, models.PROTECT, null=True, blank=True, related_name="payouts",
        verbose_name=_("order item"),
    )
    kind = models.CharField(_("kind"), max_length=12, choices=PayoutKind.choices)
    state = models.CharField(_("state"), max_length=10, choices=PayoutState.choices,
                             default=PayoutState.RESERVED)
    amount = models.DecimalField(_("amount"), **MONEY)
    points = models.PositiveIntegerField(_("points"), default=0)
    payer = models.CharField(_("who bears the money"), max_length=10)
    gateway_reference = models.CharField(_("gateway reference"), max_length=80, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=80, unique=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
        related_name="recorded_payouts", verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    history = HistoricalRecords(bases=[ChainedHistory])

    class Meta:
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["order", "kind"], name="payout_order_kind_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0),
                                   name="payout_amount_not_negative"),
            models.CheckConstraint(
                condition=models.Q(state="paid", paid_at__isnull=False)
                | ~models.Q(state="paid"),
                name="payout_paid_has_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} ({self.get_state_display()})"


class SimulatedGatewayRecord(models.Model):
    """What the simulated payment gateway has paid, keyed by idempotency key."""

    idempotency_key = models.CharField(_("idempotency key"), max_length=80, unique=True)
    amount = models.DecimalField(_("amount"), **MONEY)
    reference = models.CharField(_("reference"), max_length=80)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("simulated gateway record")
        verbose_name_plural = _("simulated gateway records")

    def __str__(self) -> str:
        return self.reference
