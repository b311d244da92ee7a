"""Changes to the customer master data, which routing, VIP handling and texts rely on.

Intake only matches an existing customer (tickets.services.intake.customer_match_or_create);
the record itself changes here, for those who hold change_customer (supervisors, the shop sync).
"""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core.models.user import User
from core.services.audit import save_with_history
from shop.models import Customer

CUSTOMER_FIELDS = ("name", "phone", "tier")


@transaction.atomic
def customer_update(*, customer: Customer, actor: User, reason: str, **changes: Any) -> Customer:
    """Change the customer's name, phone or tier; the history row says who and why."""
    if not actor.has_perm("shop.change_customer"):
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
