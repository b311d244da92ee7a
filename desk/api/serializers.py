"""API representations of tickets, their timeline and their audit trail."""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.parsers import MAX_INTEGER
from core.api.schema import NON_BLANK_TEXT, request_variants
from core.api.serializers import SharedFieldsMixin
from core.models.user import User
from policies.views.presentation import render_messages, sees_rule_details
from resolutions.models import Resolution, ResolutionKind
from shop.models import CustomerTier
from supervision.models.privacy import REVEAL_REASON_MAX_LENGTH
from tickets.models import (
    Attachment,
    CancelReason,
    Category,
    Channel,
    Collaborator,
    ComplaintLevel,
    EvidenceKind,
    ItemCondition,
    Message,
    MessageKind,
    Priority,
    RequestedResolution,
    RequestReason,
    Tag,
    Ticket,
    TicketType,
)
from tickets.services.tickets import TRANSITIONS


class CustomerInSerializer(SharedFieldsMixin, serializers.Serializer):
    external_id = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=100)
    phone = serializers.RegexField(r"^\+?[0-9\- ]{5,20}$", required=False, allow_blank=True,
                                   error_messages={"invalid": _("Enter a valid phone number.")})
    tier = serializers.ChoiceField(choices=CustomerTier.choices, required=False)


class CustomerUpdateInSerializer(serializers.Serializer):
    """A change to the customer master data (the shop sync, or a holder of change_customer)."""

    name = serializers.CharField(max_length=100, required=False)
    phone = serializers.RegexField(r"^\+?[0-9\- ]{5,20}$", required=False, allow_blank=True,
                                   error_messages={"invalid": _("Enter a valid phone number.")})
    tier = serializers.ChoiceField(choices=CustomerTier.choices, required=False)
    reason = serializers.CharField(max_length=200)


class CustomerOutSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    name = serializers.CharField()
    phone = serializers.CharField(source="masked_phone", allow_blank=True)
    tier = serializers.CharField()


class IntakeSerializer(SharedFieldsMixin, serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    customer = CustomerInSerializer()
    order_number = serializers.CharField(max_length=40, required=False, allow_blank=True)
    sku = serializers.CharField(max_length=64, required=False, allow_blank=True)
    subject = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10000)
    ticket_type = serializers.ChoiceField(choices=TicketType.choices, required=False)
    category = serializers.ChoiceField(choices=Category.choices, required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    request_reason = serializers.ChoiceField(choices=RequestReason.choices, required=False)
    item_condition = serializers.ChoiceField(choices=ItemCondition.choices, required=False)
    requested_resolution = serializers.ChoiceField(
        choices=RequestedResolution.choices, required=False
    )
    claims_statutory = serializers.BooleanField(required=False, default=False)


class AttachmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attachment
        fields = ["id", "evidence_kind", "label", "content_type", "size", "sha256", "created_at"]


class MessageSerializer(serializers.ModelSerializer):
    # A customer message has no author; the agents' messages do.
    author = serializers.SlugRelatedField[User](slug_field="username", read_only=True,
                                                allow_null=True)
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = Message
        fields = ["id", "kind", "channel", "body", "author", "created_at", "attachments"]


class TicketListSerializer(serializers.ModelSerializer):
    customer = serializers.SerializerMethodField()
    order_number = serializers.CharField(source="order.number", default=None, read_only=True,
                                         allow_null=True)
    team = serializers.CharField(source="team.code", default=None, read_only=True,
                                 allow_null=True)
    assignee = serializers.CharField(source="assignee.username", default=None, read_only=True,
                                     allow_null=True)
    priority = serializers.SerializerMethodField()
    tags = serializers.SlugRelatedField[Tag](slug_field="name", many=True, read_only=True)
    # None when no customer update is planned (the ticket has no update clock).
    next_update_due_at = serializers.DateTimeField(read_only=True, allow_null=True)
    # Under a legal hold the ticket's order data and resolutions are frozen.
    legal_hold = serializers.BooleanField(source="on_legal_hold", default=False, read_only=True)

    class Meta:
        model = Ticket
        fields = [
            "number", "state", "channel", "ticket_type", "category", "priority",
            "complaint_level", "subject", "customer", "order_number", "team", "assignee",
            "tags", "created_at", "first_response_due_at", "first_response_at",
            "resolution_due_at", "next_update_due_at", "reopened_count", "legal_hold",
        ]

    def get_customer(self, ticket) -> dict:
        customer = ticket.customer
        return {
            "external_id": customer.external_id,
            "name": customer.name,
            "phone": customer.masked_phone,
            "tier": customer.tier,
        }

    def get_priority(self, ticket) -> str:
        return f"P{ticket.priority}"


class TicketDetailSerializer(TicketListSerializer):
    messages = MessageSerializer(many=True, read_only=True)
    attachments = AttachmentSerializer(source="loose_attachments", many=True, read_only=True)
    merged_into = serializers.CharField(source="merged_into.number", default=None, read_only=True,
                                        allow_null=True)
    order_item_sku = serializers.CharField(source="order_item.sku", default=None, read_only=True,
                                           allow_null=True)
    # What the caller said about themselves where it differs from the customer record.
    reported_phone = serializers.CharField(source="masked_reported_phone", read_only=True)

    class Meta(TicketListSerializer.Meta):
        fields = [
            *TicketListSerializer.Meta.fields,
            "reported_name", "reported_phone", "reported_tier",
            "description", "order_item_sku", "request_reason", "item_condition",
            "requested_resolution", "claims_statutory", "waiting_on", "resolution_summary", "cancel_reason",
            "merged_into", "paused_seconds", "resolved_at", "closed_at", "messages",
            "attachments",
        ]


# --- the new ticket of an API intake, without the serializer machinery ---------------------
# TicketDetailSerializer builds its forty fields anew (from the model's metadata) for every
# instance it serialises, which costs more than all the rest of an intake's Python. A ticket
# intake has just opened has a fixed, simple shape: no tags, no attachments, at most its
# opening message. opened_ticket_data() returns exactly what the serializer would return
# for it; tests/desk/test_intake_cost.py compares the two key for key.
_DATETIME = serializers.DateTimeField()  # its ISO 8601 output, in the current time zone


def _when(value):
    return None if value is None else _DATETIME.to_representation(value)


def _opening_message_data(message: Message) -> dict:
    return {
        "id": message.pk,
        "kind": message.kind,
        "channel": message.channel,
        "body": message.body,
        "author": message.author.username if message.author is not None else None,
        "created_at": _when(message.created_at),
        "attachments": [],
    }


def opened_ticket_data(ticket: Ticket) -> dict:
    """TicketDetailSerializer's output for a ticket ticket_create has just returned."""
    customer = ticket.customer
    message = getattr(ticket, "opening_message", None)
    return {
        "number": ticket.number,
        "state": ticket.state,
        "channel": ticket.channel,
        "ticket_type": ticket.ticket_type,
        "category": ticket.category,
        "priority": f"P{ticket.priority}",
        "complaint_level": ticket.complaint_level,
        "subject": ticket.subject,
        "customer": {"external_id": customer.external_id, "name": customer.name,
                     "phone": customer.masked_phone, "tier": customer.tier},
        # A relation whose id is None reads as None without a query.
        "order_number": ticket.order.number if ticket.order is not None else None,
        "team": ticket.team.code if ticket.team is not None else None,
        "assignee": ticket.assignee.username if ticket.assignee is not None else None,
        "tags": [],
        "created_at": _when(ticket.created_at),
        "first_response_due_at": _when(ticket.first_response_due_at),
        "first_response_at": _when(ticket.first_response_at),
        "resolution_due_at": _when(ticket.resolution_due_at),
        "next_update_due_at": _when(ticket.next_update_due_at),
        "reopened_count": ticket.reopened_count,
        "legal_hold": False,  # a hold names tickets that exist; a new one has none
        "reported_name": ticket.reported_name,
        "reported_phone": ticket.masked_reported_phone,
        "reported_tier": ticket.reported_tier,
        "description": ticket.description,
        "order_item_sku": ticket.order_item.sku if ticket.order_item is not None else None,
        "request_reason": ticket.request_reason,
        "item_condition": ticket.item_condition,
        "requested_resolution": ticket.requested_resolution,
        "claims_statutory": ticket.claims_statutory,
        "waiting_on": ticket.waiting_on,
        "resolution_summary": ticket.resolution_summary,
        "cancel_reason": ticket.cancel_reason,
        "merged_into": None,
        "paused_seconds": ticket.paused_seconds,
        "resolved_at": _when(ticket.resolved_at),
        "closed_at": _when(ticket.closed_at),
        "messages": [_opening_message_data(message)] if message is not None else [],
        "attachments": [],
    }


class TransitionInSerializer(serializers.Serializer):
    name = serializers.ChoiceField(choices=list(TRANSITIONS))
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    summary = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    reason = serializers.ChoiceField(choices=CancelReason.choices, required=False,
                                     allow_blank=True)
    waiting_on = serializers.ChoiceField(choices=Collaborator.choices, required=False,
                                         allow_blank=True)
    assignee = serializers.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.filter(is_active=True),
        required=False,
    )
    # A ticket number, looked up among the tickets the caller may read (see the view).
    merged_into = serializers.CharField(required=False, allow_blank=True, max_length=24)


def _text(max_length: int, **more) -> dict:
    return {"type": "string", "maxLength": max_length, **more}


def _one_of(values) -> dict:
    return {"type": "string", "enum": list(values)}


_REQUIRED_TEXT = {"minLength": 1, "pattern": NON_BLANK_TEXT}
# Which inputs each transition needs (tickets.services.tickets.ticket_transition checks them).
_TRANSITION_NEEDS: dict[str, tuple[dict, list[str]]] = {
    "assign": ({"assignee": _text(150, minLength=1, description="Username")}, ["assignee"]),
    "wait_for_internal": ({"waiting_on": _one_of(Collaborator.values)}, ["waiting_on"]),
    "resolve": ({"summary": _text(5000, **_REQUIRED_TEXT)}, ["summary"]),
}
TRANSITION_REQUEST = request_variants(
    {
        "name": _one_of(TRANSITIONS),
        "comment": _text(2000),
        "summary": _text(5000),
        "reason": _one_of(["", *CancelReason.values]),
        "waiting_on": _one_of(["", *Collaborator.values]),
        "assignee": _text(150, minLength=1, description="Username"),
        "merged_into": _text(24, description="A ticket number"),
    },
    [
        *[({"name": _one_of([name]), **overrides}, ["name", *needs])
          for name, (overrides, needs) in _TRANSITION_NEEDS.items()],
        # Cancelling as a duplicate merges into the ticket named; otherwise a reason is enough.
        ({"name": _one_of(["cancel"]), "reason": _one_of([CancelReason.DUPLICATE]),
          "merged_into": _text(24, **_REQUIRED_TEXT)}, ["name", "reason", "merged_into"]),
        ({"name": _one_of(["cancel"]),
          "reason": _one_of([r for r in CancelReason.values if r != CancelReason.DUPLICATE])},
         ["name", "reason"]),
        ({"name": _one_of([name for name in TRANSITIONS
                           if name not in _TRANSITION_NEEDS and name != "cancel"])}, ["name"]),
    ],
)


class TransitionOutSerializer(serializers.Serializer):
    name = serializers.CharField()
    # The metaclass takes declared fields out of the class, so these do not replace
    # Field.label or Serializer.fields at run time; the stubs cannot know that.
    label = serializers.CharField()  # type: ignore[assignment]
    fields = serializers.ListField(child=serializers.CharField())  # type: ignore[assignment]


class MessageInSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=MessageKind.choices)
    body = serializers.CharField(max_length=10000)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)


@extend_schema_field({"type": "string", "format": "binary", "minLength": 1})
class UploadField(serializers.FileField):
    """A file sent as a multipart part: the schema says binary, not the URI a FileField reads as."""


class AttachmentInSerializer(serializers.Serializer):
    file = UploadField(allow_empty_file=False)
    evidence_kind = serializers.ChoiceField(choices=EvidenceKind.choices)
    message = serializers.IntegerField(required=False, min_value=1, max_value=MAX_INTEGER)


class EscalateInSerializer(serializers.Serializer):
    level = serializers.ChoiceField(
        choices=[(value, label) for value, label in ComplaintLevel.choices
                 if value != ComplaintLevel.NONE])
    reason = serializers.CharField(max_length=2000)


class PriorityInSerializer(serializers.Serializer):
    priority = serializers.ChoiceField(choices=Priority.choices)
    reason = serializers.CharField(max_length=2000)


class ContactRevealInSerializer(serializers.Serializer):
    # Some text besides spaces, within the limit the reveal service enforces again.
    reason = serializers.RegexField(
        NON_BLANK_TEXT, max_length=REVEAL_REASON_MAX_LENGTH, trim_whitespace=False,
        error_messages={"invalid": _("Say why you need the full number; it is logged.")})


class ContactRevealOutSerializer(serializers.Serializer):
    customer = serializers.CharField(source="reveal.customer.external_id")
    phone = serializers.CharField(allow_blank=True)  # a customer may have none
    revealed_at = serializers.DateTimeField(source="reveal.revealed_at")
    reveal_id = serializers.IntegerField(source="reveal.pk")


class HistoryChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.JSONField()
    new = serializers.JSONField()


class HistoryEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    actor = serializers.CharField(allow_null=True)
    type = serializers.CharField()
    reason = serializers.CharField()
    state = serializers.CharField()
    changes = HistoryChangeSerializer(many=True)


class ResolutionSerializer(serializers.ModelSerializer):
    proposed_by = serializers.SlugRelatedField[User](slug_field="username", read_only=True,
                                                     allow_null=True)
    approved_by = serializers.SlugRelatedField[User](slug_field="username", read_only=True,
                                                     allow_null=True)
    order_item_sku = serializers.CharField(source="order_item.sku", default=None, read_only=True,
                                           allow_null=True)
    rule = serializers.SerializerMethodField()
    explanation = serializers.SerializerMethodField()

    class Meta:
        model = Resolution
        fields = [
            "id", "kind", "state", "verdict", "approval_role", "refund_amount",
            "compensation_amount", "coupon_amount", "points", "freight_payer", "payer",
            "auto_execute", "rule", "ruleset_version", "explanation", "order_item_sku",
            "proposed_by", "created_at", "accepted_at", "approved_by", "approved_at",
            "return_carrier", "return_tracking_number", "return_received_at", "executed_at",
            "completed_at", "attempts", "failure_reason", "closing_reason",
        ]

    def get_rule(self, resolution) -> dict:
        return {"id": resolution.rule_id, "name": resolution.rule_name,
                "version": resolution.rule_version}

    def get_explanation(self, resolution) -> str:
        """The explanation as the caller's role reads it: rule numbers and sources for
        reviewers (supervisors, QA, risk/legal) only."""
        request = self.context.get("request")
        reviewer = request is not None and sees_rule_details(request.user)
        return render_messages(resolution.explanation, reviewer=reviewer)


class ResolutionInSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ResolutionKind.choices)
    sku = serializers.CharField(max_length=64, required=False, allow_blank=True)


class ResolutionTransitionInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=40)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    carrier = serializers.CharField(required=False, allow_blank=True, max_length=40)
    tracking_number = serializers.CharField(required=False, allow_blank=True, max_length=64)
