"""A ticket's timeline: customer messages, replies, internal notes and evidence files."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.services.audit_chain import ChainedHistory
from tickets.models.choices import Channel
from tickets.models.ticket import Ticket


class MessageKind(models.TextChoices):
    # Only a channel integration records the customer's own words (record_inbound_message).
    INBOUND = "inbound", _("Customer message")
    REPLY = "reply", _("Reply to the customer")
    NOTE = "note", _("Internal note")
    # What the customer said on the phone, written down by the agent who took the call.
    PHONE_SUMMARY = "phone_summary", _("Phone call summary")


class Message(models.Model):
    # The keys need no index of their own: message_ticket_idx and message_author_time_idx
    # begin with them, and every message written updates each index of its table.
    ticket = models.ForeignKey(
        Ticket, models.CASCADE, related_name="messages", verbose_name=_("ticket"),
        db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=16, choices=MessageKind.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, blank=True)
    body = models.TextField(_("text"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
        related_name="ticket_messages", verbose_name=_("author"), db_index=False,
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    # History is read by message (id) and by ticket (the audit trail), never by author.
    history = HistoricalRecords(bases=[ChainedHistory], no_db_index=["author"])

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="message_ticket_idx"),
            # An agent's replies of the day on their home page, without reading all they wrote.
            models.Index(fields=["author", "created_at"], name="message_author_time_idx"),
        ]
        permissions = [
            ("record_inbound_message", _("Can record customer messages arriving from a channel")),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.body[:40]}"

    @property
    def is_customer_visible(self) -> bool:
        return self.kind in (MessageKind.INBOUND, MessageKind.REPLY)


class EvidenceKind(models.TextChoices):
    PHOTO = "photo", _("Photo")
    VIDEO = "video", _("Video")
    SCREENSHOT = "screenshot", _("Screenshot")
    INSPECTION_REPORT = "inspection_report", _("Inspection report")
    LOGISTICS_PROOF = "logistics_proof", _("Logistics proof")
    CHAT_RECORD = "chat_record", _("Chat record")


def attachment_path(instance: "Attachment", filename: str) -> str:
    """Store under a generated name; the customer's file name is never used as a path."""
    extension = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
    return timezone.now().strftime(f"evidence/%Y/%m/{uuid.uuid4().hex}.{extension}")


class Attachment(models.Model):
    ticket = models.ForeignKey(
        Ticket, models.CASCADE, related_name="attachments", verbose_name=_("ticket")
    )
    message = models.ForeignKey(
        Message, models.SET_NULL, null=True, blank=True, related_name="attachments",
        verbose_name=_("message"),
    )
    evidence_kind = models.CharField(_("evidence kind"), max_length=20, choices=EvidenceKind.choices)
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    label = models.CharField(_("original name"), max_length=120)
    content_type = models.CharField(_("content type"), max_length=60)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
        related_name="ticket_attachments", verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.label
