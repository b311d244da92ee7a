"""Guards on approvals: who may approve which resolution, up to which amount, and what they see.

Written against the mutants that survived mutation testing (docs/MUTATION_TESTING.md): each
test states a business rule literally, per role.
"""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError

from core.models.roles import Role
from core.services.exceptions import Conflict
from policies.models import ApprovalLimit
from resolutions import services as resolution_services
from resolutions.models import Payout, ResolutionState
from resolutions.services.resolutions import (
    approval_limit,
    can_approve,
    resolution_available_transitions,
    resolution_transition,
)
from tests.factories import UserFactory
from tests.resolutions.money import (
    order_with_items,
    ready_resolution,
    ticket_about,
)

pytestmark = pytest.mark.django_db
RS = ResolutionState


def user_with_roles(username: str, *roles: str):
    user = UserFactory(username=username)
    user.groups.add(*Group.objects.filter(name__in=roles))
    return user


def resolution_needing(make_ticket, approval_role: str, *, refund: str = "10.00",
                       state: str = RS.ACCEPTED, **fields):
    _order, (item,) = order_with_items("50000.00")
    return ready_resolution(ticket_about(make_ticket, item), refund=refund,
                            approval_role=approval_role, state=state, **fields)


# --- approval limits -----------------------------------------------------------------------------
def test_the_approval_limit_of_each_role_is_its_row(personas, approval_limits):
    assert approval_limit(personas[Role.AGENT]) == Decimal("50")
    assert approval_limit(personas[Role.SENIOR_AGENT]) == Decimal("2000")
    assert approval_limit(personas[Role.SUPERVISOR]) == Decimal("20000")
    assert approval_limit(personas[Role.RISK_LEGAL]) is None  # an empty row: no limit


def test_a_role_without_a_limit_row_may_approve_nothing(personas, approval_limits):
    # No row for complaint specialists and QA: their limit is zero, not "no limit".
    assert approval_limit(personas[Role.COMPLAINT_SPECIALIST]) == Decimal("0")
    assert approval_limit(personas[Role.QA]) == Decimal("0")
    assert approval_limit(user_with_roles("nobody")) == Decimal("0")
    ApprovalLimit.objects.all().delete()
    assert approval_limit(personas[Role.SUPERVISOR]) == Decimal("0")


def test_someone_with_several_roles_may_approve_up_to_the_largest_limit(approval_limits):
    assert approval_limit(user_with_roles("two_hats", Role.AGENT, Role.SENIOR_AGENT)) == Decimal(
        "2000")
    assert approval_limit(user_with_roles("lead", Role.SUPERVISOR, Role.AGENT)) == Decimal(
        "20000")
    # One of the roles has no limit: neither has the person.
    assert approval_limit(user_with_roles("counsel", Role.AGENT, Role.RISK_LEGAL)) is None


def test_a_superuser_has_no_approval_limit(approval_limits):
    assert approval_limit(UserFactory(username="root", is_superuser=True)) is None


def test_an_approver_may_approve_exactly_their_limit_and_not_a_cent_more(
    make_ticket, agent, other_agent, approval_limits
):
    # The amount is refund plus cash compensation plus coupon.
    at_limit = resolution_needing(make_ticket, Role.AGENT, refund="20.00",
                                  compensation="20.00",
                                  coupon_amount=Decimal("10.00"), proposed_by=other_agent)
    above = resolution_needing(make_ticket, Role.AGENT, refund="20.00",
                               compensation="20.00",
                               coupon_amount=Decimal("10.01"), proposed_by=other_agent)

    with pytest.raises(PermissionDenied, match=r"50\.01 is above your approval limit of 50"):
        resolution_services.resolution_approve(resolution=above, actor=agent)
    resolution_services.resolution_approve(resolution=at_limit, actor=agent)

    at_limit.refresh_from_db()
    above.refresh_from_db()
    assert (at_limit.state, at_limit.approved_by) == (RS.APPROVED, agent)
    assert (above.state, above.approved_by) == (RS.ACCEPTED, None)


def test_without_a_limit_row_a_role_approves_no_amount_at_all(
    make_ticket, complaint_specialist, agent, approval_limits
):
    resolution = resolution_needing(make_ticket, Role.COMPLAINT_SPECIALIST, refund="0.01",
                                    proposed_by=agent)
    with pytest.raises(PermissionDenied, match="above your approval limit of 0"):
        resolution_services.resolution_approve(resolution=resolution, actor=complaint_specialist)


def test_risk_legal_approves_any_amount(make_ticket, agent, risk_officer, approval_limits):
    resolution = resolution_needing(make_ticket, Role.RISK_LEGAL, refund="49999.00",
                                    proposed_by=agent)
    resolution_services.resolution_approve(resolution=resolution, actor=risk_officer, comment=" 法定赔偿 ")
    resolution.refresh_from_db()
    assert (resolution.state, resolution.approved_by) == (RS.APPROVED, risk_officer)
    entry = resolution.history.latest()
    assert entry.history_user == risk_officer
    assert entry.history_change_reason == "transition:approve — 法定赔偿"


def test_a_rejection_is_not_bounded_by_the_approval_limit(make_ticket, agent, senior_agent,
                                                          approval_limits):
    # Refusing money is never above anyone's limit: the senior agent (limit 2000) may refuse 5000.
    resolution = resolution_needing(make_ticket, Role.SENIOR_AGENT, refund="5000.00",
                                    proposed_by=agent)
    resolution_services.resolution_reject(resolution=resolution, actor=senior_agent, reason="  超出政策  ")
    resolution.refresh_from_db()
    assert (resolution.state, resolution.closing_reason) == (RS.REJECTED, "超出政策")
    assert resolution.history.latest().history_user == senior_agent


# --- who may approve which resolution (amount aside) -------------------------------------------
# Rows: the approver's role. Columns: the role the resolution needs ("" = none named).
NEEDED = (Role.AGENT, Role.SENIOR_AGENT, Role.COMPLAINT_SPECIALIST, Role.SUPERVISOR,
          Role.RISK_LEGAL, "")
MAY_APPROVE = {
    Role.AGENT: (True, False, False, False, False, False),
    Role.SENIOR_AGENT: (True, True, False, False, False, False),
    Role.COMPLAINT_SPECIALIST: (True, True, True, False, False, False),
    Role.SUPERVISOR: (True, True, True, True, False, True),
    Role.QA: (False, False, False, False, False, False),
    Role.RISK_LEGAL: (True, True, True, True, True, True),
}


@pytest.mark.parametrize("role", list(MAY_APPROVE))
def test_who_may_approve_what_each_role_needs(make_ticket, personas, role):
    approver = personas[role]
    may = {needed: can_approve(resolution_needing(make_ticket, needed), approver)
           for needed in NEEDED}
    assert may == dict(zip(NEEDED, MAY_APPROVE[role], strict=True))


def test_a_superuser_may_approve_everything(make_ticket):
    root = UserFactory(username="root", is_superuser=True)
    assert all(can_approve(resolution_needing(make_ticket, needed), root) for needed in NEEDED)


def test_the_highest_of_several_roles_decides_and_other_roles_do_not_get_in_the_way(make_ticket):
    # A senior agent who also inspects for QA approves what senior agents approve.
    senior_and_qa = user_with_roles("senior_qa", Role.QA, Role.SENIOR_AGENT)
    assert can_approve(resolution_needing(make_ticket, Role.SENIOR_AGENT), senior_and_qa)
    assert not can_approve(resolution_needing(make_ticket, Role.COMPLAINT_SPECIALIST),
                           senior_and_qa)
    # An agent who is also a complaint specialist approves what complaint specialists approve.
    both = user_with_roles("agent_complaints", Role.AGENT, Role.COMPLAINT_SPECIALIST)
    assert can_approve(resolution_needing(make_ticket, Role.COMPLAINT_SPECIALIST), both)


def test_a_wrong_role_is_refused_naming_the_role_needed(make_ticket, agent, other_agent, approval_limits):
    resolution = resolution_needing(make_ticket, Role.SUPERVISOR, proposed_by=other_agent)
    with pytest.raises(PermissionDenied, match="needs the role Supervisor"):
        resolution_services.resolution_approve(resolution=resolution, actor=agent)


def test_refusing_one_that_names_no_role_is_for_supervisors_and_a_clean_403(
    make_ticket, agent, other_agent, senior_agent, supervisor
):
    resolution = resolution_needing(make_ticket, "", proposed_by=agent)
    for outsider in (other_agent, senior_agent):
        with pytest.raises(PermissionDenied, match="needs the role"):
            resolution_services.resolution_reject(resolution=resolution, actor=outsider, reason="不合规")
    resolution_services.resolution_reject(resolution=resolution, actor=supervisor, reason="不合规")
    assert resolution.state == RS.REJECTED


def test_the_proposer_may_not_approve_even_as_a_supervisor(make_ticket, supervisor, approval_limits):
    resolution = resolution_needing(make_ticket, Role.AGENT, proposed_by=supervisor)
    with pytest.raises(PermissionDenied, match="proposed"):
        resolution_services.resolution_approve(resolution=resolution, actor=supervisor)
    assert resolution_available_transitions(resolution=resolution, user=supervisor) == [
        "cancel"]


# --- what each person is offered ---------------------------------------------------------------
# The ticket is assigned to the agent; the senior agent leads the team; the resolution needs a
# senior agent and was proposed by the agent.
OFFERED = [
    # state, kind, agent's transitions, senior agent's transitions
    (RS.PROPOSED, "refund_only", {"accept", "cancel"}, {"accept", "reject", "cancel"}),
    (RS.ACCEPTED, "refund_only", {"cancel"}, {"approve", "reject", "cancel"}),
    (RS.APPROVED, "refund_only", {"cancel", "execute"}, {"reject", "cancel", "execute"}),
    (RS.APPROVED, "return_refund", {"cancel"}, {"reject", "cancel"}),
    (RS.AWAITING_RETURN, "return_refund", {"cancel", "record_return", "receive_return"},
     {"reject", "cancel", "record_return", "receive_return"}),
    (RS.RETURN_RECEIVED, "return_refund", {"cancel", "execute"},
     {"reject", "cancel", "execute"}),
    (RS.EXECUTING, "refund_only", set(), set()),
    (RS.FAILED, "refund_only", {"cancel", "review"}, {"reject", "cancel", "review"}),
    (RS.MANUAL_REVIEW, "refund_only", {"cancel", "retry", "complete_manually"},
     {"reject", "cancel", "retry", "complete_manually"}),
    (RS.COMPLETED, "refund_only", set(), set()),
    (RS.CANCELLED, "refund_only", set(), set()),
]


@pytest.mark.parametrize(("state", "kind", "for_agent", "for_senior"), OFFERED)
def test_each_person_is_offered_exactly_what_they_may_do(
    make_ticket, agent, senior_agent, other_agent, qa_inspector, state, kind, for_agent,
    for_senior
):
    resolution = resolution_needing(make_ticket, Role.SENIOR_AGENT, state=state, kind=kind,
                                    proposed_by=agent)

    def offered(user):
        names = resolution_available_transitions(resolution=resolution, user=user)
        assert len(names) == len(set(names))
        return set(names)

    assert offered(agent) == for_agent
    assert offered(senior_agent) == for_senior
    # Neither on the ticket nor an approver: nothing. QA reads only.
    assert offered(other_agent) == set()
    assert offered(qa_inspector) == set()


# --- one entry point: each transition takes its own inputs, trimmed ----------------------------
def test_the_transitions_record_their_inputs_and_the_actor(make_ticket, agent, senior_agent,
                                                           approval_limits):
    resolution = resolution_needing(make_ticket, Role.SENIOR_AGENT, state=RS.PROPOSED,
                                    kind="return_refund", refund="80.00", proposed_by=agent)

    resolution_transition(resolution=resolution, actor=agent, name="accept",
                          note="  顾客电话同意  ")
    assert resolution.state == RS.ACCEPTED
    assert resolution.accepted_at is not None  # when the customer agreed
    entry = resolution.history.latest()
    assert (entry.history_user, entry.history_change_reason) == (
        agent, "transition:accept — 顾客电话同意")
    resolution_transition(resolution=resolution, actor=senior_agent, name="approve",
                          comment=" 质量问题属实 ")
    assert (resolution.state, resolution.approved_by) == (RS.AWAITING_RETURN, senior_agent)
    approved = resolution.history.filter(
        history_change_reason="transition:approve — 质量问题属实").get()
    assert approved.history_user == senior_agent
    resolution_transition(resolution=resolution, actor=agent, name="record_return",
                          carrier=" 顺丰速运 ", tracking_number=" SF1234567890 ")
    resolution.refresh_from_db()
    assert (resolution.return_carrier, resolution.return_tracking_number) == (
        "顺丰速运", "SF1234567890")
    assert resolution.return_shipped_at is not None
    resolution_transition(resolution=resolution, actor=agent, name="receive_return",
                          note=" 仓库已签收 ")
    assert resolution.state == RS.RETURN_RECEIVED
    entry = resolution.history.latest()
    assert (entry.history_user, entry.history_change_reason) == (
        agent, "transition:receive_return — 仓库已签收")
    executed = resolution_transition(resolution=resolution, actor=agent, name="execute")
    assert executed.state == RS.COMPLETED
    assert Payout.objects.get(resolution=resolution).amount == Decimal("80.00")


def test_cancel_and_reject_through_the_entry_point_keep_the_reason(make_ticket, agent,
                                                                   senior_agent):
    cancelled = resolution_needing(make_ticket, Role.SENIOR_AGENT, proposed_by=agent)
    rejected = resolution_needing(make_ticket, Role.SENIOR_AGENT, proposed_by=agent)

    resolution_transition(resolution=cancelled, actor=agent, name="cancel",
                          reason=" 顾客不要了 ")
    resolution_transition(resolution=rejected, actor=senior_agent, name="reject",
                          reason=" 不符合政策 ")

    assert (cancelled.state, cancelled.closing_reason) == (RS.CANCELLED, "顾客不要了")
    assert (rejected.state, rejected.closing_reason) == (RS.REJECTED, "不符合政策")
    assert cancelled.history.latest().history_user == agent
    assert rejected.history.latest().history_user == senior_agent


@pytest.mark.parametrize("name", ["cancel", "reject"])
def test_a_missing_or_blank_reason_is_refused(make_ticket, agent, senior_agent, name):
    resolution = resolution_needing(make_ticket, Role.SENIOR_AGENT, proposed_by=agent)
    for params in ({}, {"reason": None}, {"reason": "   "}):
        with pytest.raises(ValidationError) as refused:
            resolution_transition(resolution=resolution, actor=senior_agent, name=name, **params)
        assert "reason" in refused.value.message_dict
    resolution.refresh_from_db()
    assert resolution.state == RS.ACCEPTED


def test_a_return_needs_carrier_and_tracking_number(make_ticket, agent):
    resolution = resolution_needing(make_ticket, Role.SENIOR_AGENT, state=RS.AWAITING_RETURN,
                                    kind="return_refund", proposed_by=agent)
    with pytest.raises(ValidationError) as refused:
        resolution_transition(resolution=resolution, actor=agent, name="record_return")
    assert set(refused.value.message_dict) == {"carrier", "tracking_number"}


def test_review_retry_and_manual_settlement_through_the_entry_point(make_ticket, agent):
    failed = resolution_needing(make_ticket, "", state=RS.FAILED, refund="30.00")
    resolution_transition(resolution=failed, actor=agent, name="review", note=" 账户冻结 ")
    assert failed.state == RS.MANUAL_REVIEW
    assert failed.history.latest().history_change_reason == "transition:review — 账户冻结"

    retried = resolution_transition(resolution=failed, actor=agent, name="retry")
    assert retried.state == RS.COMPLETED
    assert Payout.objects.get(resolution=failed).recorded_by == agent

    manual = resolution_needing(make_ticket, "", state=RS.MANUAL_REVIEW, refund="40.00")
    resolution_transition(resolution=manual, actor=agent, name="complete_manually",
                          note=" 银行转账 ")
    manual.refresh_from_db()
    assert manual.state == RS.COMPLETED
    assert Payout.objects.get(resolution=manual).gateway_reference == "manual:银行转账"


def test_execute_through_the_entry_point_checks_the_ticket_and_the_return(make_ticket, agent,
                                                                          other_agent):
    waiting = resolution_needing(make_ticket, "", state=RS.APPROVED, kind="return_refund")
    with pytest.raises(Conflict, match="Wait until the returned goods are received") as refused:
        resolution_transition(resolution=waiting, actor=agent, name="execute")
    assert refused.value.code == "awaiting_return"

    ready = resolution_needing(make_ticket, "", state=RS.APPROVED)
    with pytest.raises(PermissionDenied):
        resolution_transition(resolution=ready, actor=other_agent, name="execute")
    assert not Payout.objects.exists()


def test_an_unknown_transition_is_refused(make_ticket, agent):
    resolution = resolution_needing(make_ticket, "")
    with pytest.raises(ValidationError) as refused:
        resolution_transition(resolution=resolution, actor=agent, name="pay_twice")
    assert refused.value.message_dict == {"name": ["Unknown transition “pay_twice”."]}


# --- the role groups are kept equal to the declared permissions -----------------------------------
def _keys(group) -> set[str]:
    return {f"{app}.{codename}" for app, codename in
            group.permissions.values_list("content_type__app_label", "codename")}


def test_a_lenient_sync_skips_unknown_permissions_and_grants_the_rest(monkeypatch):
    # Inside a data migration later models do not exist yet: their permissions are skipped.
    from django.apps import apps

    from core.models import roles

    monkeypatch.setitem(roles.ROLE_PERMISSIONS, Role.AGENT,
                        ["tickets.view_ticket", "tickets.not_yet_a_model"])
    roles.sync_roles(apps, strict=False)
    assert _keys(Group.objects.get(name=Role.AGENT)) == {"tickets.view_ticket"}


def test_a_sync_creates_a_missing_group_and_the_service_account_groups(monkeypatch):
    from django.apps import apps

    from core.models import roles

    Group.objects.filter(name=Role.QA).delete()
    Group.objects.get(name="integration_shop_sync").permissions.clear()
    roles.sync_roles(apps, strict=True)
    assert _keys(Group.objects.get(name=Role.QA)) == set(roles.ROLE_PERMISSIONS[Role.QA])
    assert _keys(Group.objects.get(name="integration_shop_sync")) == {
        "shop.view_customer", "shop.change_customer"}


def test_the_sync_waits_for_the_last_app_and_the_default_database():
    from django.apps import apps

    from core.models import roles

    group = Group.objects.get(name=Role.AGENT)
    last = [config for config in apps.get_app_configs() if config.models_module][-1]
    first = apps.get_app_config("auth")
    assert first.label != last.label

    group.permissions.clear()
    roles.sync_roles_after_migrate(first)
    roles.sync_roles_after_migrate(last, using="archive")
    assert _keys(group) == set()

    roles.sync_roles_after_migrate(last)
    assert _keys(group) == set(roles.ROLE_PERMISSIONS[Role.AGENT])


def test_the_sync_after_migrate_refuses_an_unknown_permission(monkeypatch):
    # A typo in ROLE_PERMISSIONS must stop `migrate`, not leave a role short of a permission.
    from django.apps import apps

    from core.models import roles

    last = [config for config in apps.get_app_configs() if config.models_module][-1]
    monkeypatch.setitem(roles.ROLE_PERMISSIONS, Role.AGENT, ["tickets.fly_to_the_moon"])
    with pytest.raises(LookupError, match=r"tickets\.fly_to_the_moon"):
        roles.sync_roles_after_migrate(last)


def test_the_migration_sync_creates_permissions_that_do_not_exist_yet():
    # Inside a data migration the app configs are historical stubs without a models module;
    # the sync must still create the permissions before it hands them to the groups.
    from django.contrib.auth.models import Permission
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from core.models import roles

    Permission.objects.filter(codename="change_team").delete()
    historical = MigrationExecutor(connection).loader.project_state().apps

    roles.sync_roles(historical, strict=False)

    assert Permission.objects.filter(codename="change_team").exists()
    assert "tickets.change_team" in _keys(Group.objects.get(name=Role.SUPERVISOR))
