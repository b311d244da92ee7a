"""The outbox: every outgoing notification as a row, stored exactly as it was sent.

Customer messages (SMS, app push, e-mail) and the console's own notifications to staff are
written here first and delivered afterwards by a pluggable backend (see
notifications.services.delivery). QA reads this table to see what a customer was told and when.
Rows are never deleted; a notification that should not go out is cancelled instead.
"""

import re

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shop.models import Customer, mask_phone
from tickets.models.ticket import Ticket

_PHONE_SHAPE = re.compile(r"\+?[\d\s-]{7,}")


class NotificationKind(models.TextChoices):
    """What a message is about: the keys of the notification templates, as people read them."""

    FIRST_RESPONSE_REMINDER = "sla.first_response_reminder", _("First response overdue")
    RESOLUTION_OVERDUE = "sla.resolution_overdue", _("Resolution overdue")
    RETURN_REMINDER = "customer.return_reminder", _("Return reminder to the customer")
    RETURN_OVERDUE = "sla.return_overdue", _("Return parcel overdue")
    PLATFORM_INTERVENED = "sla.platform_intervened", _("Advance payout by the platform")
    PAYMENT_NEEDS_REVIEW = "sla.payment_needs_review", _("Payment failed, needs review")
    EXECUTION_REFUSED = "resolution.execution_refused", _("Resolution not executed")
    AWAITING_APPROVAL = "resolution.awaiting_approval", _("Resolution waiting for approval")
    CHANGE_SET_SUBMITTED = "policies.change_set_submitted", _("Policy change waiting for approval")
    TEAM_UNSTAFFED = "routing.team_unstaffed", _("Nobody available in a team")
    DEFAULT_TEAM_UNSTAFFED = "routing.default_team_unstaffed", _(
        "Nobody available in the default team")
    PROGRESS_UPDATE = "customer.progress_update", _("Progress update to the customer")
    INCIDENT_UPDATE = "incident.update", _("Incident news to the customer")
    SURVEY_INVITE = "survey.invite", _("Satisfaction survey invitation")


class OutboxChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    APP = "app", _("App message")
    EMAIL = "email", _("E-mail")
    INTERNAL = "internal", _("Console notification")


# Channels that reach a customer (or anyone) outside the console.
EXTERNAL_CHANNELS = (OutboxChannel.SMS, OutboxChannel.APP, OutboxChannel.EMAIL)


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class OutboxMessage(models.Model):
    ticket = models.ForeignKey(
        Ticket, models.PROTECT, null=True, blank=True, related_name="outbox_messages",
        verbose_name=_("ticket"),
    )
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
        related_name="outbox_messages", verbose_name=_("recipient (staff)"),
    )
    recipient_customer = models.ForeignKey(
        Customer, models.PROTECT, null=True, blank=True, related_name="outbox_messages",
        verbose_name=_("recipient (customer)"),
    )
    # Where an external message goes: a phone number, an e-mail address or an app user id.
    address = models.CharField(_("address"), max_length=254, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=OutboxChannel.choices)
    # Choices only name the kinds for people; a template added later is saved all the same.
    template = models.CharField(_("template"), max_length=64, choices=NotificationKind.choices)
    context = models.JSONField(
        _("template context"), default=dict, blank=True, encoder=DjangoJSONEncoder
    )
    # Rendered when the row is created, so the row shows exactly what was sent.
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"))
    status = models.CharField(
        _("status"), max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("failed attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    # Retries back off from the creation time; the sweep reads only this column.
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    # NULL (not "") means "no key": a unique column admits any number of NULLs. Unique by a
    # constraint rather than unique=True, which on PostgreSQL adds a second (LIKE) index that
    # every insert would pay for and no query uses.
    dedupe_key = models.CharField(  # noqa: DJ001 (NULL means no key, see above)
        _("deduplication key"), max_length=200, null=True, blank=True,
        help_text=_("The same notification is queued at most once per key."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outbox")
        ordering = ["-created_at", "-id"]
        # Rows are written by the notification service only and never deleted.
        default_permissions = ("view",)
        indexes = [
            # The delivery sweep: pending rows whose next attempt is due, oldest first.
            models.Index(
                fields=["next_attempt_at", "id"], name="outbox_pending_due_idx",
                condition=Q(status=OutboxStatus.PENDING),
            ),
            # The navigation badge and the notifications page: a user's unread rows. Only
            # console notifications are read there; customer messages stay out of the index.
            models.Index(
                fields=["recipient_user", "-created_at"], name="outbox_user_unread_idx",
                condition=Q(read_at__isnull=True, channel=OutboxChannel.INTERNAL),
            ),
            # The outbox backlog on /metrics counts failed rows at every scrape; sent rows
            # pile up for ever, failed ones stay few.
            models.Index(fields=["created_at"], name="outbox_failed_idx",
                         condition=Q(status=OutboxStatus.FAILED)),
        ]
        constraints = [
            models.UniqueConstraint(fields=["dedupe_key"], name="outbox_dedupe_key_unique"),
            models.CheckConstraint(
                condition=~Q(channel=OutboxChannel.INTERNAL) | Q(recipient_user__isnull=False),
                name="outbox_internal_has_user",
            ),
            models.CheckConstraint(
                condition=Q(channel=OutboxChannel.INTERNAL) | ~Q(address=""),
                name="outbox_external_has_address",
            ),
        ]

    def __str__(self) -> str:
        return (f"{self.get_channel_display()} {self.get_template_display()}: "
                f"{self.subject or self.body[:40]}")

    @property
    def masked_address(self) -> str:
        """Return the address as staff may see it: phone numbers with the middle hidden."""
        # Any channel may be addressed by phone number (app pushes too), so go by its shape.
        if _PHONE_SHAPE.fullmatch(self.address):
            return mask_phone(self.address)
        return self.address

    @property
    def idempotency_key(self) -> str:
        """Return the key a delivery backend hands the provider: the same on every attempt.

        Delivery is at least once (a worker can die after the provider accepted a message and
        before the row is marked sent), so the provider is told which sends are one message.
        """
        return self.dedupe_key or f"outbox:{self.pk}"

    @property
    def is_unread(self) -> bool:
        return self.read_at is None
