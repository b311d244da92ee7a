"""What the home page shows each role: one panel per role the user holds."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from core.models.roles import WORKING_ROLES, Role
from tickets.models import OPEN_STATES, TicketState
from tickets.selectors import capped_counts, ticket_visible_to


@dataclass
class Panel:
    key: str
    title: str | Promise
    text: str | Promise
    figures: list[tuple[str | Promise, object]] = field(default_factory=list)
    links: list[dict] = field(default_factory=list)


ROLE_PANELS: dict[str, tuple[str | Promise, str | Promise]] = {
    Role.AGENT: (
        _("Frontline work"),
        _("Work refund, return, exchange, complaint and logistics tickets within policy, "
          "using script templates and the knowledge base."),
    ),
    Role.SENIOR_AGENT: (
        _("Escalated and complex cases"),
        _("Take over escalated tickets and the cases frontline agents cannot close."),
    ),
    Role.COMPLAINT_SPECIALIST: (
        _("Level-2 complaints"),
        _("Own compensation disputes and repeated complaints; written reply within 48 hours."),
    ),
    Role.SUPERVISOR: (
        _("Business rules and team"),
        _("Steer refund, return and compensation policy, SLA and routing; approve large "
          "resolutions; you are copied on major complaints."),
    ),
    Role.QA: (
        _("Quality review"),
        _("Sample closed tickets, review every rating below 3 stars and the audit trails, "
          "approve knowledge-base edits."),
    ),
    Role.RISK_LEGAL: (
        _("Risk and legal"),
        _("Level-3 complaints, malicious or high-frequency refund requests, legal threats."),
    ),
}


def _figures(role_value: str, user) -> list[tuple[str | Promise, object]]:
    """Return the few counts that tell this role where its work stands."""

    tickets = ticket_visible_to(user)
    open_tickets = tickets.filter(state__in=OPEN_STATES)
    now = timezone.now()
    if role_value == Role.SUPERVISOR:
        return [
            (_("Open tickets"), open_tickets.count()),
            (_("Past their resolution time"), open_tickets.filter(resolution_due_at__lt=now).count()),
        ]
    if role_value == Role.QA:
        return [(_("Closed in the last 7 days"), tickets.filter(
            state=TicketState.CLOSED, closed_at__gte=now - timedelta(days=7)).count())]
    return [
        (_("Open tickets assigned to you"), open_tickets.filter(assignee=user).count()),
        (_("Unassigned in your teams"), open_tickets.filter(
            assignee__isnull=True, team__in=user.teams.all()).count()),
    ]


def panels_for(user) -> list[Panel]:
    """Return the home-page panels for the roles the user holds."""
    panels: list[Panel] = []
    figures_shown: set[tuple[str | Promise, ...]] = set()
    for role_value in user.role_names:
        title, text = ROLE_PANELS[role_value]
        panel = Panel(key=role_value, title=title, text=text)
        figures = _figures(role_value, user)
        # Several working roles would repeat the same counts; show them once.
        if tuple(label for label, _value in figures) not in figures_shown:
            figures_shown.add(tuple(label for label, _value in figures))
            panel.figures = figures
        if role_value in WORKING_ROLES and not any(
                link["key"] == "queues" for other in panels for link in other.links):
            panel.links.append({"key": "queues", "label": _("Open my queue"),
                                "url": reverse("console-queue", args=["mine"])})
            panel.links.append({"key": "claim", "label": _("Unassigned in my teams"),
                                "url": reverse("console-queue", args=["unassigned"])})
        if role_value == Role.SUPERVISOR and user.is_staff:
            panel.links.append({"key": "admin", "label": _("Open administration"), "url": reverse("admin:index")})
        panels.append(panel)
    return panels


# --- the working day: what an agent's home page shows above their role panels -------------
# The home page lists this many of the tickets due next, and of the latest notifications.
DUE_SOON_SHOWN = 5
NOTIFICATIONS_SHOWN = 5


@dataclass
class AgentDay:
    """One agent's day: their open tickets by urgency, what is due next, what is new for
    them, and their own figures since midnight (Asia/Shanghai)."""

    by_priority: list[tuple[int, int]]  # (priority, open tickets up to the cap), P0 to P3
    overdue: int  # open tickets past their resolution time
    due_soon: Sequence[Mapping[str, Any]]  # the next open tickets by resolution due time
    notifications: Sequence[Mapping[str, Any]]  # the latest unread console notifications
    replies_today: int
    resolved_today: int
    first_responses_today: int
    first_responses_in_time: int

    @property
    def open_total(self) -> int:
        return sum(count for _priority, count in self.by_priority)


def _start_of_today(now):
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


def agent_day(user, now=None) -> AgentDay:
    """Return the user's day in six queries, whatever the number of their tickets.

    Open-ticket counts stop at QUEUE_COUNT_CAP, shown as "99+" like the queue tabs.

    Each figure reads an index that narrows it to the user or to today: their open tickets
    (ticket_open_mine_idx), today's first responses (ticket_first_response_idx), their
    unread notifications (outbox_user_unread_idx). "Resolved today" and "first responses"
    count the tickets assigned to the user, which is who resolved or answered them: a reply
    claims an unassigned ticket for whoever sends it.
    """
    from django.db.models import Count, F, Q

    from notifications.models import OutboxChannel, OutboxMessage
    from tickets.models import Message, MessageKind, Priority, Ticket

    now = now or timezone.now()
    today = _start_of_today(now)
    mine = Ticket.objects.filter(assignee=user, state__in=OPEN_STATES)
    # Capped as the queue tabs are ("99+"): an agent with thousands of open tickets costs
    # no more than one with a hundred.
    counts = capped_counts({
        **{f"p{value}": mine.filter(priority=value) for value in Priority.values},
        "overdue": mine.filter(resolution_due_at__lt=now),
    })
    due_soon = list(mine.filter(resolution_due_at__isnull=False)
                    .order_by("resolution_due_at", "id")
                    .values("number", "subject", "priority", "resolution_due_at")
                    [:DUE_SOON_SHOWN])
    notifications = list(
        OutboxMessage.objects.filter(recipient_user=user, channel=OutboxChannel.INTERNAL,
                                     read_at__isnull=True)
        .order_by("-created_at", "-id")
        .values("id", "subject", "created_at", "ticket__number")[:NOTIFICATIONS_SHOWN])
    replies = Message.objects.filter(author=user, kind=MessageKind.REPLY,
                                     created_at__gte=today).count()
    # Resolved today: still resolved (ticket_resolved_idx), or closed today as well
    # (ticket_closed_at_idx); either index reads today's tickets only.
    resolved = Ticket.objects.filter(assignee=user, resolved_at__gte=today).filter(
        Q(state=TicketState.RESOLVED) | Q(closed_at__gte=today)).count()
    first = Ticket.objects.filter(assignee=user, first_response_at__gte=today).aggregate(
        total=Count("id"),
        in_time=Count("id", filter=Q(first_response_due_at__isnull=True)
                      | Q(first_response_at__lte=F("first_response_due_at"))),
    )
    return AgentDay(
        by_priority=[(value, counts[f"p{value}"]) for value in Priority.values],
        overdue=counts["overdue"], due_soon=due_soon, notifications=notifications,
        replies_today=replies, resolved_today=resolved,
        first_responses_today=first["total"], first_responses_in_time=first["in_time"],
    )


def day_for(user) -> AgentDay | None:
    """Return the user's day if they work tickets (a working role); None otherwise."""
    if not any(role in WORKING_ROLES for role in user.role_names):
        return None
    return agent_day(user)
