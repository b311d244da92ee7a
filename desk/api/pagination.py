"""How the REST ticket list pages: by cursor, over the orderings its indexes serve."""

from core.api.keyset import KeyOrdering, KeysetPagination, check_orderings
from tickets.models import Ticket

# Each ordering has an index on exactly its key columns (see Ticket.Meta.indexes), so a page
# at any depth is an index range read; the id breaks ties between tickets opened together.
TICKET_ORDERINGS = (
    # "Most urgent, then oldest first": the documented default.
    KeyOrdering("urgency", ("priority", "created_at", "id")),
    KeyOrdering("created", ("created_at", "id")),
    KeyOrdering("-created", ("created_at", "id"), descending=True),
)
check_orderings(Ticket, TICKET_ORDERINGS)


class TicketListPagination(KeysetPagination):
    orderings = TICKET_ORDERINGS
    default_ordering = "urgency"
    page_size = 25
    max_page_size = 200
    count_cap = 1000
