"""Shared set-up for the money tests: one order, several items and tickets, ready resolutions."""

from decimal import Decimal

from policies.models import ApprovalLimit, PolicyRule
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


def money_rules() -> dict[str, PolicyRule]:
    """A small rule table: refunds of what remains, half refunds, cash and points."""
    PolicyRule.objects.all().delete()
    common = {"source": "test", "reasons": ["quality_defect"]}
    return {
        "refund": PolicyRule.objects.create(
            name="Refund", kind="refund_only", priority=40, verdict="allow",
            refund_rule="item_remaining", **common),
        "half": PolicyRule.objects.create(
            name="Half refund", kind="partial_refund", priority=41, verdict="allow",
            refund_rule="percent_of_item", refund_percent=Decimal("50"), **common),
        "cash": PolicyRule.objects.create(
            name="Cash", kind="compensation_cash", priority=42, verdict="needs_approval",
            approval_role="senior_agent", compensation_min=Decimal("20"), **common),
        "points": PolicyRule.objects.create(
            name="Points", kind="compensation_points", priority=43, verdict="allow",
            points=300, **common),
    }


def approval_limits() -> None:
    ApprovalLimit.objects.all().delete()
    for role, amount in [("agent", "50"), ("senior_agent", "2000"), ("supervisor", "20000")]:
        ApprovalLimit.objects.create(role=role, max_amount=Decimal(amount))
    ApprovalLimit.objects.create(role="risk_legal", max_amount=None)


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
