"""What the ticket workspace shows beside the ticket: its resolutions, the customer panel.

These reads combine tickets with resolutions and the customer's refund history, so they live
here, above both, and not in tickets.
"""

from dataclasses import dataclass

from django.db.models import Exists, F, OuterRef, Prefetch, Q, prefetch_related_objects
from django.http import Http404
from django.utils import timezone

from resolutions.models import Resolution
from resolutions.services.decision_facts import REFUND_KINDS, customer_history
from tickets.models import Attachment, Ticket
from tickets.selectors import QUEUES, SORTS, ticket_queue_tickets, ticket_visible_to

EARLIER_LIMIT = 10
# Risk signal: this many completed refunds or disputes in 90 days deserve a second look.
RISK_REFUNDS = 3
RISK_DISPUTES = 2


@dataclass
class CustomerPanel:
    order_items: list
    refunds_90d: int
    disputes_90d: int

    @property
    def risk(self) -> str:
        """Return "high", "watch" or "" from the customer's recent refunds and disputes."""
        if self.refunds_90d >= RISK_REFUNDS or self.disputes_90d >= RISK_DISPUTES:
            return "high"
        if self.refunds_90d or self.disputes_90d:
            return "watch"
        return ""


def ticket_get_for_workspace(*, user, number: str) -> Ticket:
    """Return the ticket with its timeline and resolutions if the user may read it.

    The ticket comes with whether it has resolutions and files at all: most tickets have
    neither yet, and then their reads are skipped (the resolutions are set to none, which
    costs no query, and the timeline reads no attachments).
    """
    # Not "merged_into": the page does not show it, and joining the ticket table a second
    # time doubles the columns to read and convert.
    tickets = ticket_visible_to(user).select_related(
        "customer", "order", "order_item", "team", "assignee", "update_clock"
    ).prefetch_related("tags").annotate(
        has_resolutions=Exists(Resolution.objects.filter(ticket=OuterRef("pk"))),
        has_attachments=Exists(Attachment.objects.filter(ticket=OuterRef("pk"))),
    )
    try:
        ticket = tickets.get(number=number)
    except Ticket.DoesNotExist:
        raise Http404(number) from None
    resolutions = (Resolution.objects.select_related("proposed_by", "approved_by", "order_item")
                   .order_by("created_at", "id") if ticket.has_resolutions
                   else Resolution.objects.none())
    prefetch_related_objects([ticket], Prefetch("resolutions", queryset=resolutions))
    return ticket


def customer_panel(*, ticket: Ticket, now=None, history: tuple[int, int] | None = None
                   ) -> CustomerPanel:
    """Return what the customer and order panel shows beside the ticket (one to three queries).

    `history` is (refunds, disputes) in the last 90 days where the caller already has them
    (the policy engine's facts count the same). The customer's earlier tickets and refunds
    load when asked for (customer_earlier).
    """
    now = now or timezone.now()
    items = list(ticket.order.items.order_by("id")) if ticket.order is not None else []
    refunds_90d, disputes_90d = history or customer_history(ticket.customer_id, at=now,
                                                            exclude_ticket=ticket.pk)
    return CustomerPanel(order_items=items, refunds_90d=refunds_90d, disputes_90d=disputes_90d)


def customer_earlier(*, ticket: Ticket) -> tuple[list, list]:
    """Return the customer's latest other tickets and refunds (two queries)."""
    earlier = list(
        Ticket.objects.filter(customer_id=ticket.customer_id).exclude(pk=ticket.pk)
        .select_related("order").order_by("-created_at", "-id")[:EARLIER_LIMIT]
    )
    refunds = list(
        Resolution.objects.filter(ticket__customer_id=ticket.customer_id, kind__in=REFUND_KINDS)
        .exclude(ticket_id=ticket.pk).select_related("ticket")
        .order_by("-created_at", "-id")[:EARLIER_LIMIT]
    )
    return earlier, refunds


@dataclass(frozen=True)
class QueueNeighbours:
    """The tickets before and after one ticket in the queue the agent opened it from."""

    queue: str
    previous: str | None  # ticket numbers
    next: str | None


def _keyset_after(fields: tuple[str, ...], values: list, *, forward: bool) -> Q:
    """Return the rows that come after `values` in the order of `fields` (before it when not
    `forward`): (a > x) or (a = x and b > y) or ... Nulls sort last on ascending fields and
    first on descending ones, as PostgreSQL orders them by default."""
    after = Q(pk__in=[])
    equal = Q()
    for field, value in zip(fields, values, strict=True):
        name = field.lstrip("-")
        ascending = not field.startswith("-")
        # Going upwards through this field's values; nulls then sit at the far end.
        upwards = ascending == forward
        if value is None:
            beyond = Q(pk__in=[]) if upwards else Q(**{f"{name}__isnull": False})
            same = Q(**{f"{name}__isnull": True})
        else:
            beyond = Q(**{f"{name}__gt" if upwards else f"{name}__lt": value})
            if upwards:
                beyond |= Q(**{f"{name}__isnull": True})
            same = Q(**{name: value})
        after |= equal & beyond
        equal &= same
    return after


def _ordering(fields: tuple[str, ...], *, forward: bool) -> list:
    ordering = []
    for field in fields:
        name, ascending = field.lstrip("-"), not field.startswith("-")
        if ascending == forward:
            ordering.append(F(name).asc(nulls_last=True))
        else:
            ordering.append(F(name).desc(nulls_first=True))
    return ordering


def queue_neighbours(*, user, queue: str, ticket: Ticket, sort: str = "",
                     now=None) -> QueueNeighbours | None:
    """Return the previous and next ticket of `queue` around `ticket` (two queries).

    Keyset, not offsets: each neighbour is the first row past the ticket's own sort key
    (priority, created time, id for the default order) in one direction, read with LIMIT 1
    along the queue's indexes (the same ones its page uses), however deep in the queue the
    ticket sits. The ticket need not be in the queue any more (claimed, answered): its sort
    key still says where it was. None for an unknown queue.
    """
    if queue not in QUEUES:
        return None
    sort = sort if sort in SORTS else QUEUES[queue].default_sort
    fields = SORTS[sort]
    values = [getattr(ticket, field.lstrip("-")) for field in fields]
    tickets = ticket_queue_tickets(user=user, queue=queue, now=now).exclude(pk=ticket.pk)

    def first(forward: bool) -> str | None:
        return (tickets.filter(_keyset_after(fields, values, forward=forward))
                .order_by(*_ordering(fields, forward=forward))
                .values_list("number", flat=True).first())

    return QueueNeighbours(queue=queue, previous=first(False), next=first(True))
