"""Reads shared by the console pages and the API, each in a fixed number of queries."""

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from cs_console.roles import Role
from tickets.models import Attachment, Message, Ticket, user_team_ids
from tickets.services.legal_holds import with_legal_hold

# Roles that may read every ticket: they supervise, review or investigate.
SEE_ALL_ROLES = (Role.SUPERVISOR, Role.QA, Role.RISK_LEGAL)


def ticket_visible_to(user) -> QuerySet[Ticket]:
    """Return the tickets the user may read.

    Supervisors, QA and risk/legal read everything; others read their teams' tickets,
    tickets assigned to them and tickets not yet routed to a team.
    """
    if not user.has_perm("tickets.view_ticket"):
        return Ticket.objects.none()
    # Everyone who reads a ticket sees whether it is under a legal hold.
    tickets = with_legal_hold(Ticket.objects.all())
    if user.has_role(*SEE_ALL_ROLES):
        return tickets
    return tickets.filter(
        Q(team__in=list(user_team_ids(user))) | Q(assignee=user) | Q(team__isnull=True)
    )


def ticket_list(*, user, filters: dict | None = None) -> QuerySet[Ticket]:
    """Return the user's visible tickets with what a list row shows, most urgent first."""
    filters = filters or {}
    tickets = ticket_visible_to(user).select_related("customer", "order", "team", "assignee")
    lookups = {
        "state": "state",
        "team": "team__code",
        "assignee": "assignee__username",
        "priority": "priority",
        "category": "category",
        "customer": "customer__external_id",
        "channel": "channel",
        "complaint_level": "complaint_level",
    }
    for key, lookup in lookups.items():
        value = filters.get(key)
        if value not in (None, ""):
            tickets = tickets.filter(**{lookup: value})
    return tickets.prefetch_related("tags").order_by("priority", "created_at", "id")


def _with_timeline(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return tickets.select_related(
        "customer", "order", "order_item", "team", "assignee", "merged_into"
    ).prefetch_related(
        "tags",
        Prefetch(
            "messages",
            queryset=Message.objects.select_related("author").prefetch_related(
                Prefetch("attachments", queryset=Attachment.objects.order_by("id"))
            ),
        ),
        Prefetch(
            "attachments",
            queryset=Attachment.objects.filter(message__isnull=True),
            to_attr="loose_attachments",
        ),
    )


def ticket_get_for_user(*, user, number: str, with_timeline: bool = False) -> Ticket:
    """Return the ticket if the user may read it; raise Http404 otherwise."""
    tickets = ticket_visible_to(user)
    tickets = _with_timeline(tickets) if with_timeline else tickets.select_related(
        "customer", "order", "order_item", "team", "assignee"
    )
    try:
        return tickets.get(number=number)
    except Ticket.DoesNotExist:
        raise Http404(number) from None


def ticket_get_with_timeline(*, number: str) -> Ticket:
    """Return the ticket with its timeline, for answering the user who just changed it.

    An escalation can move a ticket out of the actor's sight; they still get to see the
    result of their own action.
    """
    return _with_timeline(Ticket.objects.all()).get(number=number)


# Compare only the ticket's own editable columns; tags (many-to-many) would cost a query
# per history row.
_HISTORY_FIELDS = [
    field.name for field in Ticket._meta.concrete_fields
    if field.editable and field.name not in {"id", "updated_at"}
]


def ticket_history(*, ticket: Ticket) -> list[dict]:
    """Return the ticket's audit trail, oldest first: who, when, why and what changed."""
    records = list(ticket.history.select_related("history_user").order_by("history_date", "history_id"))
    trail = []
    previous = None
    for record in records:
        changes = []
        if previous is not None:
            delta = record.diff_against(previous, included_fields=_HISTORY_FIELDS)
            changes = [
                {"field": change.field, "old": change.old, "new": change.new}
                for change in delta.changes
            ]
        trail.append(
            {
                "id": record.history_id,
                "at": record.history_date,
                "actor": record.history_user.username if record.history_user else None,
                "type": {"+": "created", "~": "changed", "-": "deleted"}[record.history_type],
                "reason": record.history_change_reason or "",
                "state": record.state,
                "changes": changes,
            }
        )
        previous = record
    return trail
