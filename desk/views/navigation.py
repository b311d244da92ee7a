"""The console's navigation: one list of entries, each shown only to whom may use it."""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavEntry:
    key: str
    label: str | Promise
    url_name: str
    description: str | Promise = ""
    # The user needs any one of these permissions (none listed: every signed-in user).
    any_perm: tuple[str, ...] = ()
    staff_only: bool = False
    # The user needs one of these roles (none listed: any role).
    roles: tuple[str, ...] = ()

    def is_visible_to(self, user) -> bool:
        if self.staff_only and not user.is_staff:
            return False
        if self.roles and not user.has_role(*self.roles):
            return False
        return not self.any_perm or any(user.has_perm(perm) for perm in self.any_perm)

    @property
    def url(self) -> str | None:
        try:
            return reverse(self.url_name)
        except NoReverseMatch:
            return None


ENTRIES: tuple[NavEntry, ...] = (
    NavEntry("home", _("Home"), "home", _("Your overview")),
    NavEntry(
        "queues",
        _("Queues"),
        "console-home",
        _("Your tickets, your teams' queues, claim the next one"),
        roles=("agent", "senior_agent", "complaint_specialist", "supervisor", "risk_legal"),
    ),
    NavEntry(
        "new_ticket",
        _("New ticket"),
        "console-new-ticket",
        _("Open a ticket for a phone call"),
        any_perm=("tickets.add_ticket",),
        roles=("agent", "senior_agent", "complaint_specialist", "supervisor", "risk_legal"),
    ),
    NavEntry(
        "approvals",
        _("Approvals"),
        "console-approvals",
        _("Resolutions and policy changes waiting for your approval"),
        any_perm=("resolutions.approve_resolution", "policies.approve_policychangeset"),
    ),
    NavEntry(
        "admin",
        _("Administration"),
        "admin:index",
        _("Policy, SLA and routing tables, teams and users"),
        staff_only=True,
    ),
    NavEntry(
        "notifications",
        _("Notifications"),
        "notification-list",
        _("Reminders and alerts addressed to you"),
    ),
    NavEntry(
        "knowledge",
        _("Knowledge base"),
        "knowledge:search",
        _("Search answers, policies, cases and tutorials"),
        any_perm=("knowledge.view_article",),
    ),
    NavEntry(
        "knowledge_scripts",
        _("Scripts"),
        "knowledge:scripts",
        _("Standard wording for replies, filled for a ticket"),
        any_perm=("knowledge.view_scripttemplate",),
    ),
    NavEntry(
        "knowledge_review",
        _("Article review"),
        "knowledge:review-queue",
        _("Approve knowledge-base edits and re-check stale articles"),
        any_perm=("knowledge.publish_article",),
    ),
    NavEntry(
        "simulator",
        _("Policy simulator"),
        "policy-simulator",
        _("Try a case against the current rule table"),
        roles=("supervisor", "qa", "risk_legal"),
    ),
    NavEntry(
        "dashboard",
        _("Dashboard"),
        "dashboard",
        _("Service figures, trends, backlog and the monthly ranking"),
        any_perm=("reporting.view_dailyagentmetrics",),
    ),
    NavEntry(
        "qa",
        _("QA reviews"),
        "qa-queue",
        _("Sampled, complained-about and low-rated tickets to review"),
        any_perm=("supervision.view_qareview",),
    ),
    NavEntry(
        "api_docs",
        _("API"),
        "api-docs",
        _("Interactive documentation of the REST API"),
    ),
)


def entries_for(user) -> list[dict]:
    """Return the navigation entries the user may see, with resolved URLs."""
    if not user.is_authenticated:
        return []
    visible = []
    for entry in ENTRIES:
        url = entry.url
        if url and entry.is_visible_to(user):
            visible.append({"key": entry.key, "label": entry.label, "url": url,
                            "description": entry.description})
    return visible
