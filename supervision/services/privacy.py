"""Revealing a customer's full contact details: one customer, one stated reason, one log row.

Phone numbers are shown masked everywhere (`Customer.masked_phone`). Someone who must call
a customer back asks for the full number here; the reveal is refused without the
permission or a reason, and every granted reveal is written to the append-only
`ContactReveal` log that QA and risk/legal read.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core.models.user import User
from shop.models import Customer
from supervision.models.privacy import REVEAL_REASON_MAX_LENGTH, ContactReveal
from tickets.models import Ticket
from tickets.selectors import ticket_visible_to

REVEAL_PERMISSION = "shop.reveal_customer_contact"


@dataclass(frozen=True)
class RevealedContact:
    """What a reveal hands back: the full details, and the log row that recorded it."""

    phone: str
    reveal: ContactReveal


def can_reveal_contact(user: User) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(REVEAL_PERMISSION))


def require_can_reveal_contact(user: User) -> None:
    """Raise PermissionDenied unless the user may see customers' full contact details."""
    if not can_reveal_contact(user):
        raise PermissionDenied(_("You may not see customers' full contact details."))


def clean_reveal_reason(reason: object) -> str:
    """Return the reason stripped, or raise ValidationError when it is blank or too long."""
    cleaned = " ".join(str(reason or "").split())
    if not cleaned:
        raise ValidationError({"reason": _("Say why you need the full number; it is logged.")})
    if len(cleaned) > REVEAL_REASON_MAX_LENGTH:
        raise ValidationError({"reason": _("Keep the reason under %(limit)d characters.")
                               % {"limit": REVEAL_REASON_MAX_LENGTH}})
    return cleaned


def customer_contact_reveal(*, actor: User, customer: Customer, reason: str,
                            ticket: Ticket | None = None) -> RevealedContact:
    """Return the customer's full phone number and log who saw it, when, why and for what.

    `ticket`, when given, must be the customer's and one the actor may read: a reveal from a
    ticket is tied to it in the log. Raises PermissionDenied without the permission and
    ValidationError for a blank or overlong reason or a ticket of another customer.
    """

    require_can_reveal_contact(actor)
    reason = clean_reveal_reason(reason)
    if ticket is not None:
        if ticket.customer_id != customer.pk:
            raise ValidationError({"ticket": _("That ticket belongs to another customer.")})
        if not ticket_visible_to(actor).filter(pk=ticket.pk).exists():
            raise PermissionDenied(_("You may not read that ticket."))
    with transaction.atomic():
        # The log row is itself the audit record (append-only), so no history row is kept.
        reveal = ContactReveal.objects.create(
            customer=customer, revealed_by=actor, ticket=ticket, reason=reason)
    return RevealedContact(phone=customer.phone, reveal=reveal)
