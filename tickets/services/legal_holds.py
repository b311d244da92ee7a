"""Legal holds (法务冻结): while a ticket is held, its order data and resolutions stay as they are.

The check sits at the lowest level that every writer passes: a pre_save / pre_delete guard
on the frozen models (orders, their items, resolutions, payouts), so services, sweeps and
the admin are all refused with the same clear error. Placing and releasing a hold are
services with history like every other change.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models.user import User
from core.services.audit import save_with_history
from core.services.exceptions import Conflict
from shop.models import Order, OrderItem
from tickets.models import LegalHold, Payout, Resolution, Ticket


def active_holds() -> QuerySet[LegalHold]:
    return LegalHold.objects.filter(released_at__isnull=True)


def with_legal_hold(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Annotate each ticket with `on_legal_hold`, in the same query."""
    return tickets.annotate(
        on_legal_hold=Exists(active_holds().filter(ticket_id=OuterRef("pk"))))


def held_order_ids(order_ids) -> set[int]:
    """Return which of the orders belong to a ticket under an active legal hold."""
    ids = {pk for pk in order_ids if pk is not None}
    if not ids:
        return set()
    return set(active_holds().filter(ticket__order_id__in=ids)
               .values_list("ticket__order_id", flat=True))


def is_held(*, ticket: Ticket | None = None, order_id: int | None = None) -> bool:
    """Return True if the ticket, or the order it is about, is under an active legal hold."""
    condition = Q()
    if ticket is not None:
        condition |= Q(ticket_id=ticket.pk)
        order_id = order_id or ticket.order_id
    if order_id is not None:
        condition |= Q(ticket__order_id=order_id)
    return bool(condition) and active_holds().filter(condition).exists()


def _refuse() -> Conflict:
    return Conflict(_("This ticket is under a legal hold: its order data and resolutions are "
                      "frozen until the hold is released."), code="legal_hold")


def require_not_held(*, ticket: Ticket | None = None, order_id: int | None = None) -> None:
    """Raise Conflict if the ticket or its order is frozen by a legal hold."""
    if is_held(ticket=ticket, order_id=order_id):
        raise _refuse()


# Set while a payment the gateway has already made is being recorded: money that has left
# cannot be frozen, and refusing to record it would only make the books wrong.
_recording_settlement: ContextVar[bool] = ContextVar("recording_settlement", default=False)


@contextmanager
def recording_settlement():
    """Let the writes that record an already executed payment through a hold."""
    token = _recording_settlement.set(True)
    try:
        yield
    finally:
        _recording_settlement.reset(token)


def guard_frozen(sender, instance, **kwargs: Any) -> None:
    """pre_save / pre_delete receiver: refuse changes to held order data and resolutions."""
    if kwargs.get("raw") or _recording_settlement.get():
        return  # loading fixtures, or recording a payment that has already happened
    if isinstance(instance, Resolution):
        # The services have the ticket at hand already; reading it costs nothing then.
        require_not_held(ticket=instance.ticket)
    elif isinstance(instance, Payout):
        require_not_held(order_id=instance.order_id)
    elif isinstance(instance, Order) and instance.pk is not None:
        require_not_held(order_id=instance.pk)
    elif isinstance(instance, OrderItem) and instance.pk is not None:
        require_not_held(order_id=instance.order_id)


FROZEN_MODELS = (Order, OrderItem, Resolution, Payout)


@transaction.atomic
def legal_hold_place(*, ticket: Ticket, actor: User, reason: str) -> LegalHold:
    """Freeze the ticket's order data and resolutions (legal threat, regulator)."""
    if not actor.has_perm("tickets.add_legalhold"):
        raise PermissionDenied(_("Only risk/legal and supervisors place legal holds."))
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason; it goes into the audit trail.")})
    if active_holds().filter(ticket=ticket).exists():
        raise Conflict(_("The ticket is already under a legal hold."), code="already_held")
    hold = LegalHold(ticket=ticket, reason=reason.strip(), placed_by=actor,
                     placed_at=timezone.now())
    try:
        with transaction.atomic():
            save_with_history(hold, actor=actor, reason="legal_hold:place")
    except IntegrityError as exc:  # placed by someone else at the same moment
        raise Conflict(_("The ticket is already under a legal hold."),
                       code="already_held") from exc
    return hold


@transaction.atomic
def legal_hold_release(*, hold: LegalHold, actor: User, reason: str) -> LegalHold:
    """Lift a legal hold; the ticket's order data and resolutions may change again."""
    if not actor.has_perm("tickets.change_legalhold"):
        raise PermissionDenied(_("Only risk/legal and supervisors release legal holds."))
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason; it goes into the audit trail.")})
    hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
    if hold.released_at is not None:
        raise Conflict(_("This legal hold has already been released."), code="released")
    hold.released_by = actor
    hold.released_at = timezone.now()
    hold.release_reason = reason.strip()
    save_with_history(hold, actor=actor, reason="legal_hold:release")
    return hold
