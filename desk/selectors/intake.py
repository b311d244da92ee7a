"""What phone intake checks before it opens a ticket: the order's tickets still open."""

from dataclasses import dataclass, field

from shop.models import Order
from tickets.models import OPEN_STATES, Ticket
from tickets.selectors import ticket_visible_to

# A warning names a few tickets; an order with more is rare and the queue lists them all.
OPEN_TICKETS_SHOWN = 5


@dataclass
class OpenOnOrder:
    """The order's open tickets the agent may read, newest first, and how many others there are."""

    visible: list[Ticket] = field(default_factory=list)
    others: int = 0

    def __bool__(self) -> bool:
        return bool(self.visible) or self.others > 0


def open_tickets_on_order(*, user, order: Order | None) -> OpenOnOrder:
    """Return the open tickets on the order: a new call is most often about one of them.

    Tickets of teams the agent may not read are only counted, never named.
    """
    if order is None:
        return OpenOnOrder()
    open_on_order = Ticket.objects.filter(order=order, state__in=OPEN_STATES)
    visible = list(ticket_visible_to(user).filter(order=order, state__in=OPEN_STATES)
                   .select_related("assignee").order_by("-created_at", "-id")[:OPEN_TICKETS_SHOWN])
    total = open_on_order.count()
    visible_total = (len(visible) if len(visible) < OPEN_TICKETS_SHOWN
                     else ticket_visible_to(user).filter(pk__in=open_on_order).count())
    return OpenOnOrder(visible=visible, others=max(total - visible_total, 0))
