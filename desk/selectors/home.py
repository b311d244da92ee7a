"""What the home page shows each role: one panel per role the user holds."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from core.models.roles import WORKING_ROLES, Role
from tickets.models import OPEN_STATES, TicketState
from tickets.selectors import ticket_visible_to


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
