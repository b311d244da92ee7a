"""Legal holds (法务冻结): while a ticket is held, its order data and resolutions stay as they are.

The check sits at the lowest level that every writer passes: a pre_save / pre_delete guard
on the frozen models (orders, their items, resolutions, payouts; see freeze), so services,
sweeps and the admin are all refused with the same clear error. Placing and releasing a hold are
services with history like every other change.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.db.models.signals import pre_delete, pre_save
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models.user import User
from core.services.audit import save_with_history
from core.services.exceptions import Conflict
from tickets.models import LegalHold, Ticket
from tickets.selectors import active_holds, is_held


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
def recording_settlement() -> Iterator[None]:
    """Let the writes that record an already executed payment through a hold."""
    token = _recording_settlement.set(True)
    try:
        yield
    finally:
        _recording_settlement.reset(token)


def freeze(model: type[Model], *, held_by: Callable[[Any], dict[str, Any] | None]) -> None:
    """Refuse saves and deletes of `model` rows while a legal hold freezes them.

    `held_by(row)` says where to look for the hold (`{"ticket": ...}` or `{"order_id": ...}`),
    or None for a row nothing can hold yet (a new order). Each app freezes its own models
    from its AppConfig.ready(): tickets the shop's orders and items, resolutions its
    resolutions and payouts.
    """

    def guard(sender: type[Model], instance: Any, **kwargs: Any) -> None:
        if kwargs.get("raw") or _recording_settlement.get():
            return  # loading fixtures, or recording a payment that has already happened
        where = held_by(instance)
        if where is not None:
            require_not_held(**where)

    label = model._meta.label
    pre_save.connect(guard, sender=model, weak=False, dispatch_uid=f"legal_hold_{label}")
    pre_delete.connect(guard, sender=model, weak=False, dispatch_uid=f"legal_hold_delete_{label}")


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
