"""Builders for the money tests: one order, several items and tickets, ready resolutions.

The rule table and the approval limits they use are fixtures (conftest.py)."""

from decimal import Decimal

from resolutions.models import (
    PAYOUT_ACTIVE_STATES,
    Payout,
    PayoutKind,
    Resolution,
    ResolutionState,
)
from shop.models import Order, OrderItem
from tests.factories import OrderFactory, OrderItemFactory
from tickets.models import TicketState


def order_with_items(*prices: str, paid: str | None = None) -> tuple[Order, list[OrderItem]]:
    """Return an order whose items were paid `prices` (the order: their sum, or `paid`)."""
    total = sum((Decimal(price) for price in prices), Decimal("0.00"))
    order = OrderFactory(paid_amount=Decimal(paid) if paid else total)
    items = [OrderItemFactory(order=order, paid_amount=Decimal(price), unit_price=Decimal(price))
             for price in prices]
    return order, items


def ticket_about(make_ticket, item: OrderItem, **fields):
    """Return an open ticket, assigned to the agent, about one item of the order."""
    return make_ticket(TicketState.IN_PROGRESS, customer=item.order.customer, order=item.order,
                       order_item=item, request_reason="quality_defect",
                       item_condition="opened", **fields)


def ready_resolution(ticket, *, refund: str = "0.00", compensation: str = "0.00",
                     points: int = 0, kind: str = "refund_only", approval_role: str = "",
                     state: str = ResolutionState.APPROVED, **fields) -> Resolution:
    """Return a resolution ready to execute, as one approved before the proposal check existed."""
    resolution = Resolution(
        ticket=ticket, order_item=ticket.order_item, kind=kind, state=state,
        verdict="needs_approval" if approval_role else "allow", approval_role=approval_role,
        refund_amount=Decimal(refund), compensation_amount=Decimal(compensation),
        points=points, **fields)
    resolution.save()
    return resolution


def refunded(*, order: Order | None = None, item: OrderItem | None = None,
             states=PAYOUT_ACTIVE_STATES) -> Decimal:
    """Return the order's (or the item's) refunds in the given payout states."""
    rows = Payout.objects.filter(kind=PayoutKind.REFUND, state__in=states)
    rows = rows.filter(order_item=item) if item is not None else rows.filter(order=order)
    return sum((row.amount for row in rows), Decimal("0.00"))
