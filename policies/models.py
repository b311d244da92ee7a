"""The after-sales rule table and approval limits that supervisors edit in Django admin.

Columns are typed and validated (no free-form code). policies.services.rulebook turns the rows into
the engine's frozen Rule objects; every edit is versioned by django-simple-history, and the
history id of a row is the version a decision cites.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition
from simple_history.models import HistoricalRecords

from core.models.roles import Role
from core.services.audit_chain import ChainedHistory
from shop.models import CustomerTier, ProductCategory
from tickets.models import EvidenceKind, ItemCondition, RequestReason

# Money and percent columns are optional (blank = "no condition" / "no limit") and never negative.
# Their options are written out at each field so the type checker sees `null=True`.
NOT_NEGATIVE = MinValueValidator(Decimal("0"))


# What a rule offers; a resolution is one of these (resolutions.models).
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
    RECALL = "recall", _("Recall")
    EXTENDED_WARRANTY = "extended_warranty", _("Goodwill: extended warranty")


class Verdict(models.TextChoices):
    ALLOW = "allow", _("Allow")
    DENY = "deny", _("Deny")
    NEEDS_APPROVAL = "needs_approval", _("Needs approval")


class OrderStage(models.TextChoices):
    UNPAID = "unpaid", _("Unpaid")
    UNSHIPPED = "unshipped", _("Paid, not shipped")
    IN_TRANSIT = "in_transit", _("In transit")
    SIGNED = "signed", _("Signed for")


class PolicyItemFlag(models.TextChoices):
    """Item facts a rule can ask for; the shop mirror and the request supply them."""

    CUSTOM_MADE = "custom_made", _("Custom-made")
    PERISHABLE = "perishable", _("Fresh / perishable")
    DIGITAL = "digital", _("Digital, delivered online")
    HYGIENE_SEALED = "hygiene_sealed", _("Hygiene-sealed")
    PERIODICAL = "periodical", _("Newspapers and periodicals")
    NO_RETURN_CONFIRMED = "no_return_confirmed", _("Customer confirmed: not returnable")
    SANBAO = "sanbao", _("Covered by the statutory warranty (三包)")
    FREIGHT_INSURED = "freight_insured", _("Return-freight insurance")


class Warranty(models.TextChoices):
    ANY = "any", _("Any")
    WITHIN = "within", _("Within warranty")
    BEYOND = "beyond", _("Beyond warranty")


class FreightPayer(models.TextChoices):
    NONE = "", _("No return leg")
    MERCHANT = "merchant", _("Merchant")
    CUSTOMER = "customer", _("Customer")
    PLATFORM = "platform", _("Platform")
    INSURER = "insurer", _("Return-freight insurance")


class Payer(models.TextChoices):
    MERCHANT = "merchant", _("Merchant")
    PLATFORM = "platform", _("Platform (advance payout)")
    CARRIER = "carrier", _("Carrier")
    INSURER = "insurer", _("Insurer")


class RefundRule(models.TextChoices):
    NONE = "none", _("No refund")
    ITEM_REMAINING = "item_remaining", _("Item paid minus already refunded")
    PERCENT_OF_ITEM = "percent_of_item", _("Percent of the item's paid amount")
    ASSESSED_DAMAGE = "assessed_damage", _("The assessed damage (repair cost or depreciation)")


class CompensationBase(models.TextChoices):
    ORDER = "order", _("The order's paid amount")
    ITEM = "item", _("The item's paid amount (the goods concerned)")


# The choices a multiple-choice column may hold, by column.
LIST_CHOICES = {
    "categories": ProductCategory.choices,
    "required_flags": PolicyItemFlag.choices,
    "excluded_flags": PolicyItemFlag.choices,
    "reasons": RequestReason.choices,
    "item_conditions": ItemCondition.choices,
    "order_stages": OrderStage.choices,
    "customer_tiers": CustomerTier.choices,
    "evidence_any": EvidenceKind.choices,
    "evidence_absent": EvidenceKind.choices,
}


def _list_field(verbose_name, help_text):
    return models.JSONField(verbose_name, default=list, blank=True, help_text=help_text)


class PolicyRule(models.Model):
    # --- identity ------------------------------------------------------------------------
    name = models.CharField(_("name (English)"), max_length=120)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120, blank=True)
    # What the agent sees beside an option and may say to the customer as it stands: no
    # rule numbers, sources or codes (those are for supervisors and QA).
    explanation_zh = models.TextField(
        _("explanation for agents (Chinese)"), blank=True,
        help_text=_("What the customer gets and why, in the words an agent says it."))
    explanation_en = models.TextField(
        _("explanation for agents (English)"), blank=True,
        help_text=_("What the customer gets and why, in the words an agent says it."))
    kind = models.CharField(_("resolution kind"), max_length=20, choices=ResolutionKind.choices)
    priority = models.PositiveIntegerField(
        _("priority"), help_text=_("Lower numbers are checked first; for each kind the first "
                                   "matching rule decides."))
    is_active = models.BooleanField(_("active"), default=True)
    effective_from = models.DateTimeField(_("effective from"), null=True, blank=True)
    effective_to = models.DateTimeField(_("effective until"), null=True, blank=True)
    source = models.TextField(
        _("source"), blank=True,
        help_text=_("Which rule of the law, the platform or the training material this encodes."))

    # --- conditions: an empty list or an empty number means "any" -------------------------
    categories = _list_field(_("product categories"), _("Leave empty for every category."))
    required_flags = _list_field(_("required item flags"), _("All of these must apply."))
    excluded_flags = _list_field(_("excluded item flags"), _("None of these may apply."))
    reasons = _list_field(_("request reasons"), _("Leave empty for every reason."))
    item_conditions = _list_field(_("item conditions"), _("As the customer reports it."))
    order_stages = _list_field(_("order stages"), _("Derived from the order's times."))
    customer_tiers = _list_field(_("customer tiers"), "")
    evidence_any = _list_field(_("evidence: at least one of"), "")
    evidence_absent = _list_field(_("evidence: none of"), "")
    within_days = models.PositiveIntegerField(
        _("within N days of sign-off"), null=True, blank=True,
        help_text=_("Calendar days as the law counts them: from the day after sign-off to "
                    "24:00 of day N."))
    after_days = models.PositiveIntegerField(_("more than N days after sign-off"), null=True,
                                             blank=True)
    within_hours = models.PositiveIntegerField(_("within N hours of sign-off"), null=True,
                                               blank=True)
    after_hours = models.PositiveIntegerField(_("more than N hours after sign-off"), null=True,
                                              blank=True)
    warranty = models.CharField(_("warranty"), max_length=8, choices=Warranty.choices,
                                default=Warranty.ANY)
    min_order_amount = models.DecimalField(
        _("order amount at least"), max_digits=12, decimal_places=2, null=True, blank=True,
        validators=[NOT_NEGATIVE])
    max_order_amount = models.DecimalField(
        _("order amount at most"), max_digits=12, decimal_places=2, null=True, blank=True,
        validators=[NOT_NEGATIVE])
    max_item_amount = models.DecimalField(
        _("item amount at most"), max_digits=12, decimal_places=2, null=True, blank=True,
        validators=[NOT_NEGATIVE])
    min_refunds_90d = models.PositiveIntegerField(_("refunds in 90 days at least"), null=True,
                                                  blank=True)
    max_refunds_90d = models.PositiveIntegerField(_("refunds in 90 days at most"), null=True,
                                                  blank=True)
    min_disputes_90d = models.PositiveIntegerField(_("disputes in 90 days at least"), null=True,
                                                   blank=True)
    max_disputes_90d = models.PositiveIntegerField(_("disputes in 90 days at most"), null=True,
                                                   blank=True)
    min_merchant_silent_hours = models.DecimalField(
        _("merchant silent for at least (hours)"), max_digits=8, decimal_places=2, null=True,
        blank=True, validators=[MinValueValidator(Decimal("0"))])
    min_carrier_silent_hours = models.DecimalField(
        _("carrier silent for at least (hours)"), max_digits=8, decimal_places=2, null=True,
        blank=True, validators=[MinValueValidator(Decimal("0"))])
    sign_off_known = models.BooleanField(
        _("sign-off time known"), null=True, blank=True,
        help_text=_("Empty for any; yes or no to ask that the sign-off time is (not) known."))
    claims_statutory = models.BooleanField(
        _("customer claims statutory compensation"), null=True, blank=True,
        help_text=_("Empty for any; yes or no to ask that the customer does (not) claim "
                    "the compensation the law grants."))

    # --- outcome -----------------------------------------------------------------------------
    verdict = models.CharField(_("verdict"), max_length=16, choices=Verdict.choices,
                               default=Verdict.ALLOW)
    approval_role = models.CharField(_("approving role"), max_length=24, choices=Role.choices,
                                     blank=True)
    freight_payer = models.CharField(_("freight payer"), max_length=10,
                                     choices=FreightPayer.choices, blank=True)
    payer = models.CharField(_("who bears the money"), max_length=10, choices=Payer.choices,
                             default=Payer.MERCHANT)
    refund_rule = models.CharField(_("refund amount"), max_length=16, choices=RefundRule.choices,
                                   default=RefundRule.NONE)
    refund_percent = models.DecimalField(
        _("refund percent of item"), max_digits=6, decimal_places=2, null=True, blank=True,
        validators=[NOT_NEGATIVE])
    refund_cap = models.DecimalField(
        _("refund cap"), max_digits=12, decimal_places=2, null=True, blank=True,
        validators=[NOT_NEGATIVE])
    compensation_percent = models.DecimalField(
        _("compensation percent of order"), max_digits=6, decimal_places=2, null=True, blank=True,
        validators=[NOT_NEGATIVE],
        help_text=_("Clamped to the minimum and cap, then to the platform cap (30 per cent of the "
                    "order) unless the rule is statutory."))
    compensation_base = models.CharField(
        _("compensation percent of"), max_length=8, choices=CompensationBase.choices,
        default=CompensationBase.ORDER,
        help_text=_("Statutory multiples are of the price of the goods concerned (the item)."))
    compensation_min = models.DecimalField(
        _("compensation minimum"), max_digits=12, decimal_places=2, null=True, blank=True,
        validators=[NOT_NEGATIVE])
    compensation_cap = models.DecimalField(
        _("compensation cap"), max_digits=12, decimal_places=2, null=True, blank=True,
        validators=[NOT_NEGATIVE])
    coupon_amount = models.DecimalField(
        _("coupon amount"), max_digits=12, decimal_places=2, null=True, blank=True,
        validators=[NOT_NEGATIVE])
    points = models.PositiveIntegerField(_("points"), null=True, blank=True)
    warranty_extension_months = models.PositiveIntegerField(
        _("warranty extended by (months)"), null=True, blank=True)
    auto_execute = models.BooleanField(_("execute automatically"), default=False)
    statutory = models.BooleanField(
        _("statutory"), default=False,
        help_text=_("A legal entitlement (for example triple compensation for fraud): exempt "
                    "from the platform cap, always approved by risk/legal."))

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    history = HistoricalRecords(bases=[ChainedHistory])

    class Meta:
        verbose_name = _("policy rule")
        verbose_name_plural = _("policy rules")
        ordering = ["kind", "priority", "id"]
        indexes = [models.Index(fields=["kind", "priority"], name="policy_rule_kind_prio_idx")]

    def __str__(self) -> str:
        return f"{self.priority} · {self.name_zh or self.name}"

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}

        def add(field, message):
            errors.setdefault(field, []).append(message)

        for field, choices in LIST_CHOICES.items():
            values = getattr(self, field)
            if not isinstance(values, list):
                add(field, _("Must be a list."))
                continue
            allowed = {value for value, _label in choices}
            unknown = [value for value in values if value not in allowed]
            if unknown:
                add(field, _("Unknown values: %(values)s") % {"values": ", ".join(map(str, unknown))})
        if set(self.required_flags) & set(self.excluded_flags):
            add("excluded_flags", _("A flag cannot be both required and excluded."))
        if set(self.evidence_any) & set(self.evidence_absent):
            add("evidence_absent", _("Evidence cannot be both required and absent."))

        for low, high, label in [
            ("min_order_amount", "max_order_amount", _("order amount")),
            ("min_refunds_90d", "max_refunds_90d", _("refunds in 90 days")),
            ("min_disputes_90d", "max_disputes_90d", _("disputes in 90 days")),
            ("compensation_min", "compensation_cap", _("compensation")),
        ]:
            lo, hi = getattr(self, low), getattr(self, high)
            if lo is not None and hi is not None and lo > hi:
                add(high, _("The maximum of %(what)s must not be below its minimum.")
                    % {"what": label})
        for after, within in [("after_days", "within_days"), ("after_hours", "within_hours")]:
            lo, hi = getattr(self, after), getattr(self, within)
            if lo is not None and hi is not None and lo >= hi:
                add(within, _("This window is empty: 'more than' must be below 'within'."))

        if self.refund_percent is not None and self.refund_percent > 100:
            add("refund_percent", _("A percent is between 0 and 100."))
        if self.compensation_percent is not None and self.compensation_percent > 100 \
                and not self.statutory:
            add("compensation_percent",
                _("Above 100 per cent only for statutory rules (for example triple compensation)."))
        if self.refund_rule == RefundRule.PERCENT_OF_ITEM and self.refund_percent is None:
            add("refund_percent", _("Give the percent of the item to refund."))

        if self.verdict == Verdict.NEEDS_APPROVAL and not self.approval_role:
            add("approval_role", _("Say which role approves."))
        if self.verdict != Verdict.NEEDS_APPROVAL and self.approval_role and not self.statutory:
            add("approval_role", _("Only rules that need approval name an approving role."))
        if self.statutory and self.approval_role not in ("", Role.RISK_LEGAL):
            add("approval_role", _("Statutory rules are always approved by risk/legal."))
        if self.verdict == Verdict.DENY and (
            self.refund_rule != RefundRule.NONE or self.compensation_percent or self.coupon_amount
            or self.points or self.auto_execute or self.warranty_extension_months
        ):
            add("verdict", _("A deny rule gives nothing and executes nothing."))
        if self.auto_execute and self.verdict != Verdict.ALLOW:
            add("auto_execute", _("Only allowed options execute automatically."))
        if self.effective_from and self.effective_to and self.effective_from >= self.effective_to:
            add("effective_to", _("The end must come after the start."))
        if errors:
            raise ValidationError(errors)


class ApprovalLimit(models.Model):
    """The largest amount (refund plus compensation) a role may approve; empty means no limit."""

    role = models.CharField(_("role"), max_length=24, choices=Role.choices, unique=True)
    max_amount = models.DecimalField(
        _("largest amount it may approve"), max_digits=12, decimal_places=2, null=True,
        blank=True, validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Leave empty for no limit."))
    note = models.CharField(_("note"), max_length=200, blank=True)

    history = HistoricalRecords(bases=[ChainedHistory])

    class Meta:
        verbose_name = _("approval limit")
        verbose_name_plural = _("approval limits")
        ordering = ["max_amount"]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.max_amount if self.max_amount is not None else '∞'}"


# --- governance: rule changes go live only through an approved change set ----------------------
#
# Supervisors never edit a live rule or limit row: an edit becomes an item of their draft change
# set, which a second person approves (policies.services.changesets); publishing applies every
# item in one transaction. The engine reads only the live table, so nothing here affects a
# decision before it is published.


class ChangeSetState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted for approval")
    APPROVED = "approved", _("Approved, waiting for its effective time")
    PUBLISHED = "published", _("Published")
    REJECTED = "rejected", _("Rejected")
    ROLLED_BACK = "rolled_back", _("Rolled back")


class ChangeAction(models.TextChoices):
    CREATE_RULE = "create_rule", _("New rule")
    UPDATE_RULE = "update_rule", _("Rule edited")
    DEACTIVATE_RULE = "deactivate_rule", _("Rule deactivated")
    UPDATE_LIMIT = "update_limit", _("Approval limit edited")


CS = ChangeSetState


class PolicyChangeSet(models.Model):
    """Edits of the rule table and the approval limits that go live together, once approved."""

    title = models.CharField(_("title"), max_length=200, blank=True)
    state = FSMField(_("state"), max_length=16, choices=ChangeSetState.choices,
                     default=ChangeSetState.DRAFT)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT,
                               related_name="policy_change_sets", verbose_name=_("author"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    effective_at = models.DateTimeField(
        _("effective at"), null=True, blank=True,
        help_text=_("Empty: published as soon as it is approved."))
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    rejected_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                    blank=True, related_name="+", verbose_name=_("rejected by"))
    rejected_at = models.DateTimeField(_("rejected at"), null=True, blank=True)
    rejection_reason = models.TextField(_("reason for rejecting"), blank=True)
    # Why a scheduled publication did not happen (a row changed since the draft, say).
    publish_error = models.TextField(_("publication refused"), blank=True)
    rollback_of = models.ForeignKey("self", models.PROTECT, null=True, blank=True,
                                    related_name="rollbacks", verbose_name=_("rolls back"))

    history = HistoricalRecords(bases=[ChainedHistory])

    class Meta:
        verbose_name = _("policy change set")
        verbose_name_plural = _("policy change sets")
        ordering = ["-created_at", "-id"]
        permissions = [("approve_policychangeset", _("Can approve policy change sets"))]
        indexes = [models.Index(fields=["state", "effective_at"], name="policy_cs_state_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}".strip()

    # --- transitions: fields on self only --------------------------------------------------
    @transition(field=state, source=CS.DRAFT, target=CS.SUBMITTED)
    def submit(self, *, at, effective_at) -> None:
        self.submitted_at = at
        self.effective_at = effective_at

    @transition(field=state, source=CS.SUBMITTED, target=CS.APPROVED)
    def approve(self) -> None:
        """Every approval it needs is given."""

    @transition(field=state, source=CS.SUBMITTED, target=CS.REJECTED)
    def reject(self, *, by, at, reason: str) -> None:
        self.rejected_by = by
        self.rejected_at = at
        self.rejection_reason = reason

    @transition(field=state, source=CS.APPROVED, target=CS.PUBLISHED)
    def publish(self, *, at) -> None:
        self.published_at = at
        self.publish_error = ""

    @transition(field=state, source=CS.PUBLISHED, target=CS.ROLLED_BACK)
    def roll_back(self) -> None:
        """Its rollback change set has been published."""


class PolicyChangeItem(models.Model):
    """One row's change: its values before (when drafted) and after, as JSON by field name."""

    change_set = models.ForeignKey(PolicyChangeSet, models.CASCADE, related_name="items",
                                   verbose_name=_("change set"))
    action = models.CharField(_("action"), max_length=20, choices=ChangeAction.choices)
    rule = models.ForeignKey(PolicyRule, models.PROTECT, null=True, blank=True,
                             related_name="change_items", verbose_name=_("rule"))
    limit = models.ForeignKey(ApprovalLimit, models.PROTECT, null=True, blank=True,
                              related_name="change_items", verbose_name=_("approval limit"))
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)
    # The row's newest history id when drafted; publishing refuses if the row moved on since.
    base_version = models.PositiveBigIntegerField(_("base version"), null=True, blank=True)
    # The history id the publication wrote (a rollback starts from it).
    applied_version = models.PositiveBigIntegerField(_("applied version"), null=True,
                                                     blank=True)

    history = HistoricalRecords(bases=[ChainedHistory])

    class Meta:
        verbose_name = _("policy change")
        verbose_name_plural = _("policy changes")
        ordering = ["id"]

    def __str__(self) -> str:
        target = self.rule or self.limit or self.after.get("name", "")
        return f"{self.get_action_display()}: {target}"


class PolicyChangeApproval(models.Model):
    """One person's approval of a change set, in the role they approved it as."""

    change_set = models.ForeignKey(PolicyChangeSet, models.CASCADE, related_name="approvals",
                                   verbose_name=_("change set"))
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+",
                                 verbose_name=_("approver"))
    role = models.CharField(_("approved as"), max_length=24, choices=Role.choices)
    approved_at = models.DateTimeField(_("approved at"))

    history = HistoricalRecords(bases=[ChainedHistory])

    class Meta:
        verbose_name = _("change set approval")
        verbose_name_plural = _("change set approvals")
        ordering = ["approved_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["change_set", "approver"],
                                    name="policy_cs_one_approval_per_person"),
            models.UniqueConstraint(fields=["change_set", "role"],
                                    name="policy_cs_one_approval_per_role"),
        ]

    def __str__(self) -> str:
        return f"{self.approver} ({self.get_role_display()})"
