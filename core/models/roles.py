"""The console's roles, as Django groups, and the model permissions each one holds.

ROLE_PERMISSIONS (staff) and INTEGRATION_PERMISSIONS (service accounts) are the single source
of truth: a data migration creates the groups and `sync_roles` (run after every `migrate`)
makes each group's permissions equal to them.
Object-level rules (only the assignee may work an assigned ticket, maker-checker, ...)
live in the services; these are the coarse model permissions.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    AGENT = "agent", _("Frontline agent")
    SENIOR_AGENT = "senior_agent", _("Senior agent")
    COMPLAINT_SPECIALIST = "complaint_specialist", _("Complaint specialist")
    SUPERVISOR = "supervisor", _("Supervisor")
    QA = "qa", _("QA inspector")
    RISK_LEGAL = "risk_legal", _("Risk / legal")


# Roles that work tickets (and may be assigned one).
WORKING_ROLES = (
    Role.AGENT, Role.SENIOR_AGENT, Role.COMPLAINT_SPECIALIST, Role.SUPERVISOR, Role.RISK_LEGAL,
)

_READ_SHOP = [
    "shop.view_customer",
    "shop.view_order",
    "shop.view_orderitem",
    "tickets.view_team",
]
_READ_TICKETS = [
    "tickets.view_ticket",
    "tickets.view_message",
    "tickets.view_attachment",
    "resolutions.view_resolution",
    "tickets.view_tag",
    # A legal hold is visible to everyone who reads the ticket.
    "tickets.view_legalhold",
]
# Working a ticket: open it, change it through its transitions, write to its timeline.
_WORK_TICKETS = [
    "tickets.add_ticket",
    "tickets.change_ticket",
    "tickets.escalate_ticket",
    "tickets.add_message",
    "tickets.add_attachment",
    "resolutions.add_resolution",
    "resolutions.change_resolution",
    # Within the role's approval limit, and never one's own proposal (maker-checker).
    "resolutions.approve_resolution",
]
_READ_POLICY = ["policies.view_policyrule", "policies.view_approvallimit"]
_DRAFT_POLICY_CHANGES = ["policies.view_policychangeset", "policies.add_policychangeset",
                         "policies.change_policychangeset"]
# The knowledge base: everyone reads it and uses scripts; agents draft and submit articles.
_READ_KNOWLEDGE = [
    "knowledge.view_article",
    "knowledge.view_category",
    "knowledge.view_tag",
    "knowledge.view_scripttemplate",
]
_WRITE_KNOWLEDGE = [*_READ_KNOWLEDGE, "knowledge.add_article", "knowledge.change_article"]
# QA inspectors and supervisors keep it correct: they approve, publish and archive articles
# and maintain the script templates, categories and tags.
_REVIEW_KNOWLEDGE = [
    *_WRITE_KNOWLEDGE,
    "knowledge.publish_article",
    "knowledge.view_articlemedia",
    "knowledge.add_articlemedia",
    "knowledge.change_articlemedia",
    "knowledge.add_category",
    "knowledge.change_category",
    "knowledge.add_tag",
    "knowledge.change_tag",
    "knowledge.add_scripttemplate",
    "knowledge.change_scripttemplate",
]
# Supervision: QA reviews, major incidents, legal holds and the dashboard's daily figures.
_READ_SUPERVISION = [
    "supervision.view_qareview",
    "supervision.view_incident",
    "supervision.view_incidentbroadcast",
    "reporting.view_dailyagentmetrics",
    "reporting.view_dailyruletotals",
]
_MANAGE_LEGAL_HOLDS = ["tickets.add_legalhold", "tickets.change_legalhold"]
# Customers' full phone numbers: everyone who calls customers back may reveal one, with a
# logged reason. QA never calls customers; they audit the reveal log instead.
_REVEAL_CONTACT = ["shop.reveal_customer_contact"]
_READ_REVEAL_LOG = ["supervision.view_contactreveal"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.AGENT: [
        *_READ_SHOP, *_READ_TICKETS, *_WORK_TICKETS, *_READ_POLICY, *_WRITE_KNOWLEDGE,
        *_REVEAL_CONTACT,
    ],
    Role.SENIOR_AGENT: [
        *_READ_SHOP, *_READ_TICKETS, *_WORK_TICKETS, *_READ_POLICY, "tickets.assign_ticket",
        *_WRITE_KNOWLEDGE, *_REVEAL_CONTACT,
    ],
    Role.COMPLAINT_SPECIALIST: [
        *_READ_SHOP, *_READ_TICKETS, *_WORK_TICKETS, *_READ_POLICY, *_WRITE_KNOWLEDGE,
        *_REVEAL_CONTACT,
    ],
    Role.SUPERVISOR: [
        *_READ_SHOP,
        *_READ_TICKETS,
        *_WORK_TICKETS,
        "tickets.assign_ticket",
        "cs_console.view_user",
        "shop.change_customer",
        "tickets.add_team",
        "tickets.change_team",
        "tickets.add_tag",
        "tickets.change_tag",
        *_READ_POLICY,
        "notifications.view_outboxmessage",
        "supervision.view_survey",
        "routing.view_agentprofile",
        "routing.add_agentprofile",
        "routing.change_agentprofile",
        "routing.view_routingrule",
        "routing.add_routingrule",
        "routing.change_routingrule",
        "sla.view_slapolicy",
        "sla.change_slapolicy",
        "django_q.view_schedule",
        "django_q.change_schedule",
        # Rules and limits change only through change sets (policies.services.changesets):
        # a supervisor drafts them and approves those of others, never their own.
        *_DRAFT_POLICY_CHANGES,
        "policies.approve_policychangeset",
        *_REVIEW_KNOWLEDGE,
        *_READ_SUPERVISION,
        *_MANAGE_LEGAL_HOLDS,
        "supervision.add_incident",
        "supervision.change_incident",
        *_REVEAL_CONTACT,
        *_READ_REVEAL_LOG,
    ],
    # QA reads everything and changes nothing but their own reviews (the services check
    # whose review it is); they approve knowledge-base edits.
    Role.QA: [
        *_READ_SHOP, *_READ_TICKETS, *_READ_POLICY, *_READ_SUPERVISION, "cs_console.view_user",
        "policies.view_policychangeset",
        "notifications.view_outboxmessage",
        "supervision.view_survey",
        *_REVIEW_KNOWLEDGE,
        "resolutions.view_payout",
        "routing.view_agentprofile",
        "routing.view_routingrule",
        "sla.view_slapolicy",
        "django_q.view_schedule",
        "supervision.change_qareview",
        *_READ_REVEAL_LOG,
    ],
    # Risk and legal work level-3 complaints, so they work tickets too.
    Role.RISK_LEGAL: [
        *_READ_SHOP, *_READ_TICKETS, *_WORK_TICKETS, *_READ_POLICY, "cs_console.view_user",
        # The second pair of eyes on rule changes; required for every approval-limit change.
        "policies.view_policychangeset", "policies.approve_policychangeset",
        *_WRITE_KNOWLEDGE,
        *_MANAGE_LEGAL_HOLDS, "supervision.view_incident", "supervision.view_incidentbroadcast",
        *_REVEAL_CONTACT, *_READ_REVEAL_LOG,
    ],
}



class Integration(models.TextChoices):
    """Service accounts of the systems that talk to the console, kept apart from staff roles.

    They are groups too, synced like the roles, but nobody works tickets as one: they have
    no queues, cannot be assigned and are not offered where staff roles are listed.
    """

    # The chat, app and phone-system gateways: they open tickets and record what customers
    # write, the only way a customer message gets onto a timeline.
    CHANNEL = "integration_channel", _("Channel integration")
    # The shop's customer master data: the only writer of customers besides change_customer.
    SHOP_SYNC = "integration_shop_sync", _("Shop sync integration")


INTEGRATION_PERMISSIONS: dict[str, list[str]] = {
    Integration.CHANNEL: [
        "shop.view_customer", "tickets.view_ticket", "tickets.add_ticket",
        "tickets.view_message", "tickets.record_inbound_message", "tickets.add_attachment",
    ],
    Integration.SHOP_SYNC: ["shop.view_customer", "shop.change_customer"],
}

# Roles whose members may open Django admin (their permissions decide what they see there).
STAFF_ROLES = (Role.SUPERVISOR, Role.QA, Role.RISK_LEGAL)


def _create_all_permissions(apps) -> None:
    """Create model permissions now; Django otherwise only does it after the whole migrate."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        # Historical app configs (inside migrations) carry no models module; pretend they do.
        is_stub = getattr(app_config, "models_module", None) is None
        if is_stub:
            app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        if is_stub:
            app_config.models_module = None


def sync_roles(apps, *, strict: bool) -> None:
    """Create the role groups and set each one's permissions to exactly ROLE_PERMISSIONS.

    With strict=False (inside a data migration, where later models do not exist yet),
    permissions of models that are not in `apps` are skipped; with strict=True an unknown
    permission is an error, so a typo in ROLE_PERMISSIONS cannot go unnoticed.
    """
    _create_all_permissions(apps)
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")

    groups = {**ROLE_PERMISSIONS, **INTEGRATION_PERMISSIONS}
    wanted = {perm for perms in groups.values() for perm in perms}
    by_key = {}
    for perm in permission_model.objects.select_related("content_type"):
        by_key[f"{perm.content_type.app_label}.{perm.codename}"] = perm
    missing = sorted(wanted - by_key.keys())
    if missing and strict:
        raise LookupError(f"Unknown permissions in ROLE_PERMISSIONS: {', '.join(missing)}")

    for role, perms in groups.items():
        group, _created = group_model.objects.get_or_create(name=str(role))
        group.permissions.set([by_key[p] for p in perms if p in by_key])


def sync_roles_after_migrate(sender, *, using="default", **kwargs) -> None:
    """post_migrate receiver: sync once, after the last app with models has migrated.

    Django sends post_migrate once per app that has a models module (after `migrate` and
    after `flush`), so the sync waits for the last of them, when every permission exists.
    """
    from django.apps import apps as global_apps

    last_app = [config for config in global_apps.get_app_configs() if config.models_module][-1]
    if sender.label != last_app.label or using != "default":
        return
    sync_roles(global_apps, strict=True)
