"""A ticket's reported customer details adopted into the customer record."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core.models.user import User
from shop.models import Customer
from shop.services import customer_update
from tickets.models import Ticket
from tickets.services.tickets import _save


@transaction.atomic
def customer_adopt_reported(*, ticket: Ticket, actor: User, reason: str) -> Customer:
    """Take what the caller reported on the ticket into the customer record.

    For a holder of change_customer who has checked the caller's details: the record
    changes through customer_update (the reason names the ticket), and the ticket forgets
    the difference, in its own history.
    """

    changes = {name: value for name, value in (("name", ticket.reported_name),
                                               ("phone", ticket.reported_phone),
                                               ("tier", ticket.reported_tier)) if value}
    if not changes:
        raise ValidationError(_("The caller reported nothing that differs from the record."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give a reason; it goes into the audit trail.")})
    customer = customer_update(customer=ticket.customer, actor=actor,
                               reason=f"{reason} ({ticket.number})", **changes)
    ticket.reported_name = ticket.reported_phone = ticket.reported_tier = ""
    _save(ticket, actor=actor, reason=f"customer:adopt_reported — {reason}")
    ticket.customer = customer
    return customer
