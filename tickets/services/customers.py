"""Changes to the customer master data, which routing, VIP handling and texts rely on.

Intake only matches an existing customer (see intake.customer_match_or_create); the record
itself changes here, for those who hold change_customer (supervisors, the shop sync).
"""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from cs_console.audit import save_with_history
from cs_console.models import User
from tickets.models import Customer, Ticket

CUSTOMER_FIELDS = ("name", "phone", "tier")


@transaction.atomic
def customer_update(*, customer: Customer, actor: User, reason: str, **changes: Any) -> Customer:
    """Change the customer's name, phone or tier; the history row says who and why."""
    if not actor.has_perm("tickets.change_customer"):
        raise PermissionDenied(_("You may not change customer records."))
    unknown = set(changes) - set(CUSTOMER_FIELDS)
    if unknown:
        raise ValidationError(_("These fields cannot be changed here: %(fields)s")
                              % {"fields": ", ".join(sorted(unknown))})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give a reason; it goes into the audit trail.")})
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    changed = [name for name, value in changes.items() if getattr(customer, name) != value]
    if not changed:
        return customer
    for name in changed:
        setattr(customer, name, changes[name])
    customer.full_clean()
    save_with_history(customer, actor=actor, reason=f"customer:update — {reason}")
    return customer


@transaction.atomic
def customer_adopt_reported(*, ticket: Ticket, actor: User, reason: str) -> Customer:
    """Take what the caller reported on the ticket into the customer record.

    For a holder of change_customer who has checked the caller's details: the record
    changes through customer_update (the reason names the ticket), and the ticket forgets
    the difference, in its own history.
    """
    from .tickets import _save

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
