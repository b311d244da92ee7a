"""What the home page shows each role: one panel per role the user holds."""

from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cs_console.roles import Role


@dataclass
class Panel:
    key: str
    title: str
    text: str
    figures: list[tuple[str, object]] = field(default_factory=list)
    links: list[dict] = field(default_factory=list)


ROLE_PANELS: dict[str, tuple[str, str]] = {
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


def panels_for(user) -> list[Panel]:
    """Return the home-page panels for the roles the user holds."""
    panels = []
    for role_value in user.role_names:
        title, text = ROLE_PANELS[role_value]
        panel = Panel(key=role_value, title=title, text=text)
        if role_value == Role.SUPERVISOR and user.is_staff:
            panel.links.append({"label": _("Open administration"), "url": reverse("admin:index")})
        panels.append(panel)
    return panels
