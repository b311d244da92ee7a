"""Each role's permissions, written out here rather than read from core.models.roles.

`core.models.roles.ROLE_PERMISSIONS` creates the groups; comparing the groups with it would
only prove the sync works. These sets are the expectation, stated once more by hand, so a
permission that is added to or taken from a role shows up here as a deliberate change.
"""

import pytest
from django.contrib.auth.models import Group, Permission

from core.models import roles
from core.models.roles import ROLE_PERMISSIONS, Integration, Role

EXPECTED = {
    Role.AGENT: {
        "knowledge.add_article", "knowledge.change_article", "knowledge.view_article",
        "knowledge.view_category", "knowledge.view_scripttemplate", "knowledge.view_tag",
        "policies.view_approvallimit", "policies.view_policyrule",
        "tickets.add_attachment", "tickets.add_message", "resolutions.add_resolution",
        "tickets.add_ticket", "resolutions.approve_resolution", "resolutions.change_resolution",
        "tickets.change_ticket", "tickets.escalate_ticket", "shop.reveal_customer_contact",
        "tickets.view_attachment", "shop.view_customer", "tickets.view_legalhold",
        "tickets.view_message", "shop.view_order", "shop.view_orderitem",
        "resolutions.view_resolution", "tickets.view_tag", "tickets.view_team", "tickets.view_ticket",
    },
    Role.SENIOR_AGENT: {
        "knowledge.add_article", "knowledge.change_article", "knowledge.view_article",
        "knowledge.view_category", "knowledge.view_scripttemplate", "knowledge.view_tag",
        "policies.view_approvallimit", "policies.view_policyrule",
        "tickets.add_attachment", "tickets.add_message", "resolutions.add_resolution",
        "tickets.add_ticket", "resolutions.approve_resolution", "tickets.assign_ticket",
        "resolutions.change_resolution", "tickets.change_ticket", "tickets.escalate_ticket",
        "shop.reveal_customer_contact", "tickets.view_attachment", "shop.view_customer",
        "tickets.view_legalhold", "tickets.view_message", "shop.view_order",
        "shop.view_orderitem", "resolutions.view_resolution", "tickets.view_tag",
        "tickets.view_team", "tickets.view_ticket",
    },
    Role.COMPLAINT_SPECIALIST: {
        "knowledge.add_article", "knowledge.change_article", "knowledge.view_article",
        "knowledge.view_category", "knowledge.view_scripttemplate", "knowledge.view_tag",
        "policies.view_approvallimit", "policies.view_policyrule",
        "tickets.add_attachment", "tickets.add_message", "resolutions.add_resolution",
        "tickets.add_ticket", "resolutions.approve_resolution", "resolutions.change_resolution",
        "tickets.change_ticket", "tickets.escalate_ticket", "shop.reveal_customer_contact",
        "tickets.view_attachment", "shop.view_customer", "tickets.view_legalhold",
        "tickets.view_message", "shop.view_order", "shop.view_orderitem",
        "resolutions.view_resolution", "tickets.view_tag", "tickets.view_team", "tickets.view_ticket",
    },
    Role.SUPERVISOR: {
        "cs_console.view_user",
        "django_q.change_schedule", "django_q.view_schedule",
        "knowledge.add_article", "knowledge.add_articlemedia", "knowledge.add_category",
        "knowledge.add_scripttemplate", "knowledge.add_tag", "knowledge.change_article",
        "knowledge.change_articlemedia", "knowledge.change_category",
        "knowledge.change_scripttemplate", "knowledge.change_tag", "knowledge.publish_article",
        "knowledge.view_article", "knowledge.view_articlemedia", "knowledge.view_category",
        "knowledge.view_scripttemplate", "knowledge.view_tag",
        "policies.view_approvallimit", "policies.view_policyrule",
        "policies.add_policychangeset", "policies.change_policychangeset",
        "policies.view_policychangeset", "policies.approve_policychangeset",
        "routing.add_agentprofile", "tickets.add_attachment", "supervision.add_incident",
        "tickets.add_legalhold", "tickets.add_message", "resolutions.add_resolution",
        "routing.add_routingrule", "tickets.add_tag", "tickets.add_team", "tickets.add_ticket",
        "resolutions.approve_resolution", "tickets.assign_ticket", "routing.change_agentprofile",
        "shop.change_customer", "supervision.change_incident", "tickets.change_legalhold",
        "resolutions.change_resolution", "routing.change_routingrule", "sla.change_slapolicy",
        "tickets.change_tag", "tickets.change_team", "tickets.change_ticket",
        "tickets.escalate_ticket", "shop.reveal_customer_contact", "routing.view_agentprofile",
        "tickets.view_attachment", "supervision.view_contactreveal", "shop.view_customer",
        "reporting.view_dailyagentmetrics", "reporting.view_dailyruletotals", "supervision.view_incident",
        "supervision.view_incidentbroadcast", "tickets.view_legalhold", "tickets.view_message",
        "shop.view_order", "shop.view_orderitem", "notifications.view_outboxmessage",
        "supervision.view_qareview", "resolutions.view_resolution", "routing.view_routingrule",
        "sla.view_slapolicy", "supervision.view_survey", "tickets.view_tag", "tickets.view_team",
        "tickets.view_ticket",
    },
    Role.QA: {
        "cs_console.view_user", "policies.view_policychangeset",
        "django_q.view_schedule",
        "knowledge.add_article", "knowledge.add_articlemedia", "knowledge.add_category",
        "knowledge.add_scripttemplate", "knowledge.add_tag", "knowledge.change_article",
        "knowledge.change_articlemedia", "knowledge.change_category",
        "knowledge.change_scripttemplate", "knowledge.change_tag", "knowledge.publish_article",
        "knowledge.view_article", "knowledge.view_articlemedia", "knowledge.view_category",
        "knowledge.view_scripttemplate", "knowledge.view_tag",
        "policies.view_approvallimit", "policies.view_policyrule",
        "supervision.change_qareview", "routing.view_agentprofile", "tickets.view_attachment",
        "supervision.view_contactreveal", "shop.view_customer", "reporting.view_dailyagentmetrics",
        "reporting.view_dailyruletotals", "supervision.view_incident", "supervision.view_incidentbroadcast",
        "tickets.view_legalhold", "tickets.view_message", "shop.view_order",
        "shop.view_orderitem", "notifications.view_outboxmessage", "resolutions.view_payout",
        "supervision.view_qareview", "resolutions.view_resolution", "routing.view_routingrule",
        "sla.view_slapolicy", "supervision.view_survey", "tickets.view_tag", "tickets.view_team",
        "tickets.view_ticket",
    },
    Role.RISK_LEGAL: {
        "cs_console.view_user",
        "knowledge.add_article", "knowledge.change_article", "knowledge.view_article",
        "knowledge.view_category", "knowledge.view_scripttemplate", "knowledge.view_tag",
        "policies.view_approvallimit", "policies.view_policyrule",
        "policies.view_policychangeset", "policies.approve_policychangeset",
        "tickets.add_attachment", "tickets.add_legalhold", "tickets.add_message",
        "resolutions.add_resolution", "tickets.add_ticket", "resolutions.approve_resolution",
        "tickets.change_legalhold", "resolutions.change_resolution", "tickets.change_ticket",
        "tickets.escalate_ticket", "shop.reveal_customer_contact", "tickets.view_attachment",
        "supervision.view_contactreveal", "shop.view_customer", "supervision.view_incident",
        "supervision.view_incidentbroadcast", "tickets.view_legalhold", "tickets.view_message",
        "shop.view_order", "shop.view_orderitem", "resolutions.view_resolution",
        "tickets.view_tag", "tickets.view_team", "tickets.view_ticket",
    },
}
# The service accounts' groups: what the channel gateways and the shop sync may do.
INTEGRATION_EXPECTED = {
    Integration.CHANNEL: {
        "tickets.add_attachment", "tickets.add_ticket", "tickets.record_inbound_message",
        "shop.view_customer", "tickets.view_message", "tickets.view_ticket",
    },
    Integration.SHOP_SYNC: {"shop.change_customer", "shop.view_customer"},
}
WORKING_ROLES = {Role.AGENT, Role.SENIOR_AGENT, Role.COMPLAINT_SPECIALIST, Role.SUPERVISOR,
                 Role.RISK_LEGAL}


def _permission_keys(group: Group) -> set[str]:
    return {
        f"{app_label}.{codename}"
        for app_label, codename in group.permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def _holders(personas, permission: str) -> set[str]:
    return {role for role, user in personas.items() if user.has_perm(permission)}


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role))
def test_every_role_has_exactly_the_permissions_written_here(role):
    group = Group.objects.get(name=role.value)
    held = _permission_keys(group)

    assert held == EXPECTED[role], (
        f"{role}: unexpected {sorted(held - EXPECTED[role])}, "
        f"missing {sorted(EXPECTED[role] - held)}")


def test_every_role_is_written_out():
    assert set(EXPECTED) == set(Role)
    assert set(INTEGRATION_EXPECTED) == set(Integration)


@pytest.mark.django_db
@pytest.mark.parametrize("integration", list(Integration))
def test_every_integration_has_exactly_the_permissions_written_here(integration):
    held = _permission_keys(Group.objects.get(name=integration.value))

    assert held == INTEGRATION_EXPECTED[integration], (
        f"{integration}: unexpected {sorted(held - INTEGRATION_EXPECTED[integration])}, "
        f"missing {sorted(INTEGRATION_EXPECTED[integration] - held)}")


@pytest.mark.django_db
def test_only_channel_integrations_record_customer_messages(personas):
    assert _holders(personas, "tickets.record_inbound_message") == set()


# --- what must never be granted --------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("permission", [
    "policies.add_policyrule", "policies.change_policyrule", "policies.delete_policyrule",
    "policies.add_approvallimit", "policies.change_approvallimit",
    "policies.delete_approvallimit",
])
def test_nobody_changes_live_rules_or_approval_limits_directly(personas, permission):
    """Rule and limit changes go live only through an approved change set (issue 16)."""
    assert _holders(personas, permission) == set()


@pytest.mark.django_db
@pytest.mark.parametrize(("permission", "holders"), [
    ("policies.add_policychangeset", {Role.SUPERVISOR}),
    ("policies.change_policychangeset", {Role.SUPERVISOR}),
    ("policies.approve_policychangeset", {Role.SUPERVISOR, Role.RISK_LEGAL}),
    ("policies.view_policychangeset", {Role.SUPERVISOR, Role.QA, Role.RISK_LEGAL}),
    ("policies.delete_policychangeset", set()),
])
def test_supervisors_draft_rule_changes_and_supervisors_or_risk_legal_approve_them(
        personas, permission, holders):
    assert _holders(personas, permission) == holders


@pytest.mark.django_db
@pytest.mark.parametrize("permission", [
    "tickets.add_ticket", "tickets.change_ticket", "tickets.escalate_ticket",
    "tickets.assign_ticket", "tickets.add_message", "tickets.add_attachment",
    "resolutions.add_resolution", "resolutions.change_resolution", "resolutions.approve_resolution",
])
def test_qa_reads_tickets_but_never_changes_them(qa_inspector, permission):
    assert qa_inspector.has_perm("tickets.view_ticket")
    assert not qa_inspector.has_perm(permission)


@pytest.mark.django_db
def test_every_working_role_works_tickets(personas):
    for permission in ("tickets.add_ticket", "tickets.change_ticket", "tickets.add_message",
                       "tickets.add_attachment", "tickets.escalate_ticket"):
        assert _holders(personas, permission) == WORKING_ROLES, permission


@pytest.mark.django_db
def test_only_senior_agents_and_supervisors_hand_tickets_to_others(personas):
    assert _holders(personas, "tickets.assign_ticket") == {Role.SENIOR_AGENT, Role.SUPERVISOR}


@pytest.mark.django_db
def test_nobody_deletes_anything(personas):
    """Records are cancelled, closed or archived, never deleted: the audit trail stays whole."""
    deleting = Permission.objects.filter(codename__startswith="delete_", group__isnull=False)

    assert not deleting.exists(), sorted(deleting.values_list("codename", flat=True))


@pytest.mark.django_db
def test_nobody_changes_audit_history(personas):
    history = Permission.objects.filter(codename__contains="historical", group__isnull=False)

    assert not history.exists(), sorted(history.values_list("codename", flat=True))


@pytest.mark.django_db
@pytest.mark.parametrize("permission", [
    "cs_console.add_user", "cs_console.change_user", "auth.add_group", "auth.change_group",
    "auth.change_permission",
])
def test_no_role_manages_accounts_or_roles(personas, permission):
    assert _holders(personas, permission) == set()


@pytest.mark.django_db
@pytest.mark.parametrize(("permission", "holders"), [
    ("tickets.add_team", {Role.SUPERVISOR}),
    ("tickets.change_team", {Role.SUPERVISOR}),
    ("shop.change_customer", {Role.SUPERVISOR}),
    ("routing.change_routingrule", {Role.SUPERVISOR}),
    ("sla.change_slapolicy", {Role.SUPERVISOR}),
    ("routing.change_agentprofile", {Role.SUPERVISOR}),
    ("supervision.add_incident", {Role.SUPERVISOR}),
    ("supervision.change_incident", {Role.SUPERVISOR}),
    ("django_q.change_schedule", {Role.SUPERVISOR}),
    ("tickets.add_legalhold", {Role.SUPERVISOR, Role.RISK_LEGAL}),
    ("tickets.change_legalhold", {Role.SUPERVISOR, Role.RISK_LEGAL}),
    ("supervision.change_qareview", {Role.QA}),
    ("knowledge.publish_article", {Role.SUPERVISOR, Role.QA}),
    ("knowledge.change_scripttemplate", {Role.SUPERVISOR, Role.QA}),
    ("notifications.change_outboxmessage", set()),
    ("resolutions.change_payout", set()),
    ("shop.reveal_customer_contact", {Role.AGENT, Role.SENIOR_AGENT, Role.COMPLAINT_SPECIALIST,
                                         Role.SUPERVISOR, Role.RISK_LEGAL}),
    ("supervision.view_contactreveal", {Role.SUPERVISOR, Role.QA, Role.RISK_LEGAL}),
    ("supervision.change_contactreveal", set()),
    ("resolutions.add_payout", set()),
])
def test_who_holds_each_supervision_permission(personas, permission, holders):
    assert _holders(personas, permission) == holders


@pytest.mark.django_db
def test_every_role_may_read_the_shop_mirror(personas):
    for user in personas.values():
        assert user.has_perm("shop.view_order")
        assert user.has_perm("shop.view_customer")


# --- keeping the groups in line with core.models.roles -----------------------------------------
@pytest.mark.django_db
def test_sync_restores_a_permission_removed_by_hand():
    from django.apps import apps

    group = Group.objects.get(name=Role.SUPERVISOR)
    group.permissions.remove(Permission.objects.get(codename="change_team"))

    roles.sync_roles(apps, strict=True)

    assert "tickets.change_team" in _permission_keys(group)


@pytest.mark.django_db
def test_strict_sync_refuses_an_unknown_permission(monkeypatch):
    from django.apps import apps

    monkeypatch.setitem(ROLE_PERMISSIONS, Role.AGENT, ["tickets.fly_to_the_moon"])

    with pytest.raises(LookupError, match=r"tickets\.fly_to_the_moon"):
        roles.sync_roles(apps, strict=True)


@pytest.mark.django_db
def test_user_knows_its_roles(supervisor):
    assert supervisor.role_names == [Role.SUPERVISOR]
    assert supervisor.has_role(Role.SUPERVISOR, Role.QA)
    assert not supervisor.has_role(Role.AGENT)


@pytest.mark.django_db
def test_every_migrate_brings_role_permissions_back_in_line():
    from django.core.management.sql import emit_post_migrate_signal

    group = Group.objects.get(name=Role.AGENT)
    group.permissions.clear()

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")

    assert _permission_keys(group) == EXPECTED[Role.AGENT]
