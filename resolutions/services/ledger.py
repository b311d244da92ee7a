"""The payout ledger: reserve before paying, then mark paid or release; refunds stay within paid.

Every function here runs inside its caller's transaction, after the caller has locked the
order row (`select_for_update`). That lock is what makes the sums below true at the moment
a row is reserved: two executions on the same order are checked one after the other, and
the second sees the first's reservation. On PostgreSQL a deferred constraint trigger on the
payout table (migration 0017) refuses any commit that would still break the rule, whoever
wrote the rows.

Only refunds are bounded by what was paid. Cash compensation, coupons and points go
through the same ledger (reserved, paid once per idempotency key, released on failure) but
are bounded by the rule table's caps, not by the order's paid amount: statutory
compensation may exceed the price.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models.user import User
from core.services.audit import save_with_history
from core.services.exceptions import Conflict
from resolutions.models import (
    PAYOUT_ACTIVE_STATES,
    RESOLUTION_OPEN_STATES,
    Payout,
    PayoutKind,
    PayoutState,
    Resolution,
)
from resolutions.services.payments import PaymentRequest, PaymentResult
from shop.models import Order, OrderItem

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class RefundPosition:
    """What an order (or one of its items) was paid, and how much of it is taken."""

    paid: Decimal
    refunded: Decimal  # paid out
    reserved: Decimal  # being paid out right now
    promised: Decimal  # refunds of other open resolutions not executing yet

    @property
    def held(self) -> Decimal:
        """Return what is refunded or being refunded (promises not counted)."""
        return self.refunded + self.reserved

    @property
    def taken(self) -> Decimal:
        return self.held + self.promised


def _money(value: Decimal | int | None) -> Decimal:
    # SQLite sums decimals without their scale; show them as money.
    return Decimal(value or 0).quantize(ZERO)


def _sum(queryset: QuerySet[Any], field: str) -> Decimal:
    return _money(queryset.aggregate(total=Sum(field))["total"])


def item_refunds_held(item_id: int) -> QuerySet[Payout]:
    """Return the item's refund rows that count against what was paid: paid or reserved.

    Manual settlements are paid rows too. The policy facts read the same rows (summed inside
    their one query), so what a decision sees refunded is what this ledger counts.
    """
    return _refunds_held(Q(order_item_id=item_id))


def _refunds_held(payouts: Q) -> QuerySet[Payout]:
    return Payout.objects.filter(payouts, kind=PayoutKind.REFUND, state__in=PAYOUT_ACTIVE_STATES)


def refund_position(*, paid: Decimal, order: Order | None = None, item: OrderItem | None = None,
                    exclude: Resolution | None = None,
                    count_promises: bool = False) -> RefundPosition:
    """Return the refund position of an order, or of one item when `item` is given."""
    if item is not None:
        resolutions = Q(order_item_id=item.pk)
        refunds = item_refunds_held(item.pk)
    elif order is not None:
        resolutions = Q(ticket__order_id=order.pk)
        refunds = _refunds_held(Q(order_id=order.pk))
    else:
        raise TypeError("refund_position() needs an order or an item")
    if exclude is not None and exclude.pk is not None:
        refunds = refunds.exclude(resolution=exclude)
    by_state = dict(refunds.order_by().values_list("state").annotate(total=Sum("amount")))
    promised = ZERO
    if count_promises:
        # An open resolution counts by its refund_amount until it reserves a refund row;
        # from then on the row counts (no resolution is counted twice).
        holding = Payout.objects.filter(resolution=OuterRef("pk"), kind=PayoutKind.REFUND,
                                        state__in=PAYOUT_ACTIVE_STATES)
        open_resolutions = (Resolution.objects.filter(resolutions,
                                                      state__in=RESOLUTION_OPEN_STATES)
                            .exclude(Exists(holding)))
        if exclude is not None and exclude.pk is not None:
            open_resolutions = open_resolutions.exclude(pk=exclude.pk)
        promised = _sum(open_resolutions, "refund_amount")
    return RefundPosition(paid=paid, refunded=_money(by_state.get(PayoutState.PAID)),
                          reserved=_money(by_state.get(PayoutState.RESERVED)), promised=promised)


def require_refund_fits(*, order: Order, item: OrderItem | None, amount: Decimal,
                        exclude: Resolution | None = None, count_promises: bool = False) -> None:
    """Raise Conflict if refunding `amount` would take the order or the item above its paid amount.

    `exclude` is the resolution being executed (its own rows are part of `amount`);
    `count_promises` also counts the refunds of other open resolutions (for proposals).
    The caller holds the order's row lock.
    """
    if amount <= 0:
        return
    position = refund_position(paid=order.paid_amount, order=order, exclude=exclude,
                               count_promises=count_promises)
    if position.taken + amount > position.paid:
        raise Conflict(
            _("Refunding %(amount)s would take the order above what was paid (%(paid)s): "
              "%(refunded)s is refunded, %(reserved)s is reserved by refunds being paid and "
              "%(promised)s is promised by other open resolutions.")
            % {"amount": amount, "paid": position.paid, "refunded": position.refunded,
               "reserved": position.reserved, "promised": position.promised},
            code="refund_exceeds_paid",
        )
    if item is None:
        return
    position = refund_position(paid=item.paid_amount, item=item, exclude=exclude,
                               count_promises=count_promises)
    if position.taken + amount > position.paid:
        raise Conflict(
            _("Refunding %(amount)s would take the item %(item)s above what was paid for it "
              "(%(paid)s): %(refunded)s is refunded, %(reserved)s is reserved by refunds being "
              "paid and %(promised)s is promised by other open resolutions.")
            % {"amount": amount, "item": item.sku, "paid": position.paid,
               "refunded": position.refunded, "reserved": position.reserved,
               "promised": position.promised},
            code="refund_exceeds_paid",
        )


def _refund_of(requests: list[PaymentRequest]) -> Decimal:
    return sum((request.amount for request in requests if request.kind == PayoutKind.REFUND),
               ZERO)


def _save(payout: Payout, *, actor: User | None, reason: str) -> None:
    save_with_history(payout, actor=actor, reason=reason)


def reserve(*, resolution: Resolution, order: Order, requests: list[PaymentRequest],
            actor: User | None) -> list[Payout]:
    """Reserve one row per payment request, after checking the refund fits (order locked).

    A released row (an earlier attempt failed) is reserved again; a paid row (an earlier
    attempt paid this part) stays paid and is not counted twice.
    """
    require_refund_fits(order=order, item=resolution.order_item, amount=_refund_of(requests),
                        exclude=resolution)
    existing = {payout.idempotency_key: payout
                for payout in Payout.objects.select_for_update().filter(resolution=resolution)}
    rows = []
    for request in requests:
        payout = existing.get(request.idempotency_key)
        if payout is None:
            payout = Payout(
                resolution=resolution, order=order, order_item=resolution.order_item,
                kind=request.kind, state=PayoutState.RESERVED, amount=request.amount,
                points=request.points, payer=resolution.payer,
                idempotency_key=request.idempotency_key, recorded_by=actor,
            )
            _save(payout, actor=actor, reason="payout:reserve")
        elif payout.state == PayoutState.RELEASED:
            payout.state = PayoutState.RESERVED
            payout.recorded_by = actor
            _save(payout, actor=actor, reason="payout:reserve")
        rows.append(payout)
    return rows


def mark_paid(*, resolution: Resolution, paid: list[tuple[PaymentRequest, PaymentResult]],
              actor: User | None) -> None:
    """Record what the gateway paid: the reserved rows become paid, with its reference."""
    now = timezone.now()
    rows = {payout.idempotency_key: payout
            for payout in Payout.objects.select_for_update().filter(resolution=resolution)}
    for request, result in paid:
        payout = rows[request.idempotency_key]
        if payout.state == PayoutState.PAID:
            continue  # paid by an earlier attempt; the gateway only replayed it
        payout.state = PayoutState.PAID
        payout.gateway_reference = result.reference
        payout.paid_at = now
        _save(payout, actor=actor, reason="payout:paid")


def release_reserved(*, resolution: Resolution, actor: User | None) -> None:
    """Give back what a failed attempt had reserved but not paid."""
    for payout in Payout.objects.select_for_update().filter(resolution=resolution,
                                                            state=PayoutState.RESERVED):
        payout.state = PayoutState.RELEASED
        _save(payout, actor=actor, reason="payout:release")


def record_manual(*, resolution: Resolution, order: Order, requests: list[PaymentRequest],
                  actor: User, reference: str) -> None:
    """Record payments settled outside the gateway as paid, after the same checks (order locked)."""
    require_refund_fits(order=order, item=resolution.order_item, amount=_refund_of(requests),
                        exclude=resolution)
    now = timezone.now()
    existing = {payout.idempotency_key: payout
                for payout in Payout.objects.select_for_update().filter(resolution=resolution)}
    for request in requests:
        payout = existing.get(request.idempotency_key) or Payout(
            resolution=resolution, order=order, order_item=resolution.order_item,
            kind=request.kind, amount=request.amount, points=request.points,
            payer=resolution.payer, idempotency_key=request.idempotency_key,
        )
        if payout.state == PayoutState.PAID:
            continue  # the gateway paid this part before the rest failed
        payout.state = PayoutState.PAID
        payout.gateway_reference = reference[:80]
        payout.paid_at = now
        payout.recorded_by = actor
        _save(payout, actor=actor, reason="payout:manual")
