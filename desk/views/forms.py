"""Forms of the agent console: queue filters, workspace actions, phone intake, bulk changes."""

from datetime import datetime, time
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.db.compiled import CompiledQuery
from core.models.names import person_name
from core.models.roles import WORKING_ROLES
from core.services.accounts import is_system_user
from shop.models import Customer, Order
from tickets.models import (
    CancelReason,
    Category,
    Channel,
    Collaborator,
    ComplaintLevel,
    ItemCondition,
    MessageKind,
    Priority,
    RequestedResolution,
    RequestReason,
    TicketType,
)
from tickets.selectors import SORTS

User = get_user_model()


ANY = _("Any")


def _blank(choices, label=ANY):
    return [("", label), *choices]


SORT_CHOICES = [
    ("priority", _("Most urgent first")),
    ("due", _("Resolution due first")),
    ("oldest", _("Oldest first")),
    ("newest", _("Newest first")),
]
assert {key for key, _label in SORT_CHOICES} == set(SORTS)


class StyledForm(forms.Form):
    """A form whose widgets carry Bootstrap's small control classes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select form-select-sm"
            elif isinstance(widget, forms.RadioSelect | forms.HiddenInput):
                continue
            else:
                css = "form-control form-control-sm"
            widget.attrs.setdefault("class", css)


class QueueFilterForm(StyledForm):
    priority = forms.TypedChoiceField(label=_("Priority"), required=False, coerce=int,
                                      empty_value=None, choices=_blank(Priority.choices))
    category = forms.ChoiceField(label=_("Category"), required=False,
                                 choices=_blank(Category.choices))
    channel = forms.ChoiceField(label=_("Channel"), required=False,
                                choices=_blank(Channel.choices))
    complaint_level = forms.ChoiceField(label=_("Complaint level"), required=False,
                                        choices=_blank(ComplaintLevel.choices))
    vip = forms.BooleanField(label=_("VIP customers only"), required=False)
    tag = forms.CharField(label=_("Tag"), required=False, max_length=40)
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=SORT_CHOICES)
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


# What "send and set status" may do after the reply: wait for the customer's answer, or
# resolve (the reply becomes the resolution summary).
REPLY_THEN_CHOICES = [
    ("", _("Only send")),
    ("wait_for_customer", _("Send and wait for the customer")),
    ("resolve", _("Send and resolve")),
]


class ReplyForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), initial=MessageKind.REPLY,
        # No "customer message": customers write through the channels, and what they say on
        # the phone is the agent's phone call summary.
        choices=[(MessageKind.REPLY, MessageKind.REPLY.label),
                 (MessageKind.NOTE, MessageKind.NOTE.label),
                 (MessageKind.PHONE_SUMMARY, MessageKind.PHONE_SUMMARY.label)],
        widget=forms.RadioSelect,
    )
    # As long as the API allows (MessageInSerializer.body).
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 4}),
                           max_length=10000,
                           error_messages={"required": _("Write something first.")})
    # The script template the text started from, if any: its use is counted on sending.
    script_template = forms.IntegerField(required=False, widget=forms.HiddenInput)
    # The latest message on the agent's screen: a reply that arrived after it warns first.
    seen = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    # Sent after that warning: the agent has read what arrived and sends anyway.
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)
    # "Send and set status": the transition taken once the reply has gone out.
    then = forms.ChoiceField(label=_("Then"), required=False, choices=REPLY_THEN_CHOICES)


class TransitionForm(forms.Form):
    name = forms.CharField(widget=forms.HiddenInput)
    assignee = forms.ModelChoiceField(label=_("Assignee"), required=False,
                                      queryset=User.objects.none())
    waiting_on = forms.ChoiceField(label=_("Waiting on"), required=False,
                                   choices=_blank(Collaborator.choices, "—"))
    summary = forms.CharField(label=_("Resolution summary"), required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))
    reason = forms.ChoiceField(label=_("Cancel reason"), required=False,
                               choices=_blank(CancelReason.choices, "—"))
    merged_into = forms.CharField(label=_("Duplicate of ticket"), required=False, max_length=24)
    comment = forms.CharField(label=_("Comment"), required=False, max_length=500)

    def __init__(self, *args, assignees=None, **kwargs):
        super().__init__(*args, **kwargs)
        if assignees is not None:
            assignee = self.fields["assignee"]
            assert isinstance(assignee, forms.ModelChoiceField)
            assignee.queryset = assignees


class EscalateForm(forms.Form):
    level = forms.ChoiceField(
        label=_("Complaint level"),
        choices=[choice for choice in ComplaintLevel.choices if choice[0] != ComplaintLevel.NONE],
    )
    reason = forms.CharField(label=_("Reason"), max_length=500,
                             error_messages={"required": _("Give a reason; it goes into the "
                                                           "audit trail.")})


class ProposeForm(forms.Form):
    kind = forms.CharField(widget=forms.HiddenInput)


class ResolutionActionForm(forms.Form):
    name = forms.CharField(widget=forms.HiddenInput)
    note = forms.CharField(label=_("Note"), required=False, max_length=500)
    comment = forms.CharField(label=_("Comment"), required=False, max_length=500)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)
    carrier = forms.CharField(label=_("Carrier"), required=False, max_length=40)
    tracking_number = forms.CharField(label=_("Tracking number"), required=False, max_length=64)


def _actor_label(user) -> str:

    return str(_("System")) if is_system_user(user) else str(user)


class ActorChoiceField(forms.ModelChoiceField):
    """A choice of acting users that names the system account "System"."""

    def label_from_instance(self, obj: Any) -> str:
        return _actor_label(obj)


class AuditFilterForm(StyledForm):
    actor = ActorChoiceField(label=_("Acting user"), required=False,
                             queryset=User.objects.none(), empty_label=_("Everyone"))
    since = forms.DateField(label=_("From"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, actors=None, **kwargs):
        super().__init__(*args, **kwargs)
        if actors is not None:
            actor = self.fields["actor"]
            assert isinstance(actor, forms.ModelChoiceField)
            actor.queryset = actors

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """Return the chosen days as an aware range, from the first to the last moment."""
        data = self.cleaned_data
        tz = timezone.get_current_timezone()
        since = datetime.combine(data["since"], time.min, tz) if data.get("since") else None
        until = datetime.combine(data["until"], time.max, tz) if data.get("until") else None
        return since, until


# --- phone intake ----------------------------------------------------------------------------
# What each type template asks for beyond the subject, as the intake scripts of the
# training material do: an after-sales request needs the order and what the customer wants.
TYPE_TEMPLATES: dict[str, tuple[str, ...]] = {
    TicketType.AFTER_SALES: ("order_number", "request_reason", "requested_resolution"),
    TicketType.COMPLAINT: ("description",),
    TicketType.LOGISTICS: ("order_number",),
    TicketType.PAYMENT: ("order_number", "description"),
    TicketType.TECHNICAL_FAULT: ("description",),
    TicketType.CONSULTATION: (),
}
REQUIRED_MESSAGES = {
    "order_number": _("This type of ticket needs the order: find the customer and choose one "
                      "of their orders, or type the order number."),
    "request_reason": _("Ask the customer why they want after-sales service."),
    "requested_resolution": _("Ask the customer what they would like: refund, return, "
                              "exchange, ..."),
    "description": _("Write down what the customer describes."),
}


class PhoneIntakeForm(StyledForm):
    customer = forms.ModelChoiceField(label=_("Customer"), required=False,
                                      queryset=Customer.objects.all(),
                                      widget=forms.HiddenInput)
    external_id = forms.CharField(label=_("Customer id (new customer)"), required=False,
                                  max_length=64)
    name = forms.CharField(label=_("Name (new customer)"), required=False, max_length=100)
    phone = forms.CharField(label=_("Phone (new customer)"), required=False, max_length=32)
    order_number = forms.CharField(label=_("Order number"), required=False, max_length=40)
    ticket_type = forms.ChoiceField(label=_("Type"), choices=TicketType.choices,
                                    initial=TicketType.AFTER_SALES)
    subject = forms.CharField(label=_("Subject"), max_length=200,
                              error_messages={"required": _("Sum the call up in one line.")})
    description = forms.CharField(label=_("What the customer says"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    category = forms.ChoiceField(label=_("Category"), required=False,
                                 choices=_blank(Category.choices, _("Decided by routing")))
    request_reason = forms.ChoiceField(label=_("Request reason"), required=False,
                                       choices=_blank(RequestReason.choices, "—"))
    item_condition = forms.ChoiceField(label=_("Item condition (as reported)"), required=False,
                                       choices=_blank(ItemCondition.choices, "—"))
    requested_resolution = forms.ChoiceField(label=_("Requested resolution"), required=False,
                                             choices=_blank(RequestedResolution.choices, "—"))
    claims_statutory = forms.BooleanField(label=_("claims statutory compensation"),
                                          required=False)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        customer = data.get("customer")
        if customer is None and not (data.get("external_id") and data.get("name")):
            self.add_error("customer", _("Find the caller among the customers, or enter a new "
                                         "customer's id and name."))
        required = TYPE_TEMPLATES.get(data.get("ticket_type", ""), ())
        for field in required:
            if not (data.get(field) or "").strip():
                self.add_error(field, REQUIRED_MESSAGES[field])
        number = (data.get("order_number") or "").strip()
        if number:
            order = Order.objects.filter(number=number).select_related("customer").first()
            if order is None:
                self.add_error("order_number", _("No order with this number exists."))
            elif customer is not None and order.customer_id != customer.pk:
                self.add_error("order_number", _("The order belongs to another customer."))
            data["order"] = order
        else:
            data["order"] = None
        return data


# --- supervisors' bulk changes -----------------------------------------------------------------
class BulkForm(StyledForm):
    action = forms.ChoiceField(choices=[("reassign", _("Reassign")),
                                        ("reprioritise", _("Change priority"))])
    assignee = forms.ModelChoiceField(label=_("New assignee"), required=False,
                                      queryset=User.objects.none())
    priority = forms.TypedChoiceField(label=_("New priority"), required=False, coerce=int,
                                      empty_value=None, choices=_blank(Priority.choices, "—"))
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        assignee = self.fields["assignee"]
        assert isinstance(assignee, forms.ModelChoiceField)
        assignee.queryset = working_users()

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("action") == "reassign" and not data.get("assignee"):
            self.add_error("assignee", _("Choose who gets the tickets."))
        if data.get("action") == "reprioritise":
            if data.get("priority") is None:
                self.add_error("priority", _("Choose a priority from P0 to P3."))
            if not (data.get("reason") or "").strip():
                self.add_error("reason", _("Give a reason; it goes into the audit trail."))
        return data


def working_users():
    """Return the active users who work tickets, by name."""
    return (User.objects.filter(is_active=True, groups__name__in=[str(r) for r in WORKING_ROLES])
            .distinct().order_by("username"))


def working_user_choices() -> list[tuple]:
    """Return BulkForm's assignee choices as the field would list them, from plain values.

    The queue page draws them for supervisors on every page; the field itself would build
    a model instance per user to name it.
    """
    users = _WORKING_USER_NAMES.rows()
    return [("", BulkForm.base_fields["assignee"].empty_label),  # type: ignore[attr-defined]
            *((pk, person_name(first, last, username)) for pk, first, last, username in users)]


# On every supervisor's queue page, the same query: compiled once (core.db.compiled).
_WORKING_USER_NAMES = CompiledQuery(
    lambda: working_users().values_list("pk", "first_name", "last_name", "username"))


def ticket_numbers(values: list[str]) -> list[str]:
    """Return the ticked ticket numbers of the bulk form; reject an empty selection."""
    numbers = [number.strip() for number in values if number.strip()]
    if not numbers:
        raise ValidationError(_("Tick at least one ticket."))
    return numbers
