"""Four-eyes rule changes (issue 16, point 1): change sets from draft to publication and back.

A change to a rule or an approval limit is drafted, submitted, approved by a second person with
the right role and only then applied, in one transaction, with history naming the change set,
its author and its approvers. Nothing in a draft affects a decision.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from core.services.exceptions import Conflict
from policies.models import ChangeAction, ChangeSetState, PolicyChangeSet, PolicyRule
from policies.services import changesets, rulebook
from policies.tasks import publish_due_change_sets_task
from tests.policies.test_rule_table import refund_option, small_refund_facts

pytestmark = pytest.mark.django_db
CS = ChangeSetState


def deciding_rule() -> PolicyRule:
    """The rule that decides a small quality refund (秒退) under the live table."""
    _version, decision = rulebook.decide(small_refund_facts("88.00"))
    return PolicyRule.objects.get(pk=refund_option(decision).rule_id)


def lower_threshold(actor, rule, amount="50.00"):
    values = {**changesets.values_of(rule), "max_item_amount": Decimal(amount)}
    return changesets.propose_rule(actor=actor, rule=rule, values=values)


def submitted_edit(actor, rule, **submit):
    item = lower_threshold(actor, rule)
    return changesets.submit(actor=actor, change_set=item.change_set, **submit)


# --- lifecycle -------------------------------------------------------------------------------

def test_a_draft_changes_no_decision_until_a_second_person_approves_it(supervisor,
                                                                          other_supervisor):
    rule = deciding_rule()
    change_set = submitted_edit(supervisor, rule)

    assert deciding_rule().pk == rule.pk  # drafted and submitted: the live table decides
    rule.refresh_from_db()
    assert rule.max_item_amount != Decimal("50.00")

    changesets.approve(actor=other_supervisor, change_set=change_set)

    change_set.refresh_from_db()
    rule.refresh_from_db()
    assert change_set.state == CS.PUBLISHED
    assert rule.max_item_amount == Decimal("50.00")
    option = refund_option(rulebook.decide(small_refund_facts("88.00"))[1])
    assert option is None or option.rule_id != rule.pk


def test_the_rule_history_names_the_change_set_its_author_and_approver(supervisor,
                                                                        other_supervisor):
    rule = deciding_rule()
    change_set = submitted_edit(supervisor, rule)
    changesets.approve(actor=other_supervisor, change_set=change_set)

    latest = rule.history.latest()
    assert latest.history_user == other_supervisor
    assert latest.history_change_reason == (
        f"changeset:{change_set.pk} — author supervisor_liu; approved by supervisor_sun")
    delta = latest.diff_against(latest.prev_record)
    assert [change.field for change in delta.changes] == ["max_item_amount"]
    item = change_set.items.get()
    assert item.applied_version == latest.history_id
    assert changesets.diff(item)[0][0] == "max_item_amount"
    reasons = list(change_set.history.order_by("history_id")
                   .values_list("history_change_reason", "history_user__username"))
    assert reasons == [("changeset:create", "supervisor_liu"),
                       ("changeset:submit", "supervisor_liu"),
                       ("changeset:approve", "supervisor_sun"),
                       ("changeset:publish", "supervisor_sun")]


def test_a_second_edit_of_the_same_rule_replaces_the_first_in_the_draft(supervisor):
    rule = deciding_rule()
    lower_threshold(supervisor, rule, "50.00")
    item = lower_threshold(supervisor, rule, "60.00")

    assert item.change_set.items.count() == 1
    assert item.after["max_item_amount"] == "60.00"
    assert item.before["max_item_amount"] == str(rule.max_item_amount)


def test_an_edit_that_changes_nothing_is_refused(supervisor):
    rule = deciding_rule()
    with pytest.raises(ValidationError):
        changesets.propose_rule(actor=supervisor, rule=rule, values=changesets.values_of(rule))
    assert not PolicyChangeSet.objects.filter(items__isnull=False).exists()


def test_an_invalid_rule_is_refused_when_drafted(supervisor):
    rule = deciding_rule()
    with pytest.raises(ValidationError) as refused:
        changesets.propose_rule(actor=supervisor, rule=rule, values={
            **changesets.values_of(rule), "verdict": "needs_approval", "approval_role": ""})
    assert "approval_role" in refused.value.message_dict


def test_new_rules_copies_and_deactivations_are_published_together(supervisor,
                                                                     other_supervisor):
    rule = deciding_rule()
    changesets.propose_copies(actor=supervisor, rules=[rule])
    changesets.propose_deactivation(actor=supervisor, rules=[rule])
    draft = PolicyChangeSet.objects.get(author=supervisor, state=CS.DRAFT)
    assert sorted(draft.items.values_list("action", flat=True)) == [
        ChangeAction.CREATE_RULE, ChangeAction.DEACTIVATE_RULE]
    count_before = PolicyRule.objects.count()

    changesets.submit(actor=supervisor, change_set=draft)
    changesets.approve(actor=other_supervisor, change_set=draft)

    rule.refresh_from_db()
    assert not rule.is_active
    copy = PolicyRule.objects.latest("id")
    assert PolicyRule.objects.count() == count_before + 1
    assert copy.name == f"{rule.name} (copy)"
    assert not copy.is_active
    assert copy.history.get().history_change_reason.startswith(f"changeset:{draft.pk} — ")
    assert draft.items.get(action=ChangeAction.CREATE_RULE).rule == copy


def test_an_empty_draft_cannot_be_submitted_and_a_past_effective_time_is_refused(supervisor):
    rule = deciding_rule()
    draft = lower_threshold(supervisor, rule).change_set
    with pytest.raises(ValidationError):
        changesets.submit(actor=supervisor, change_set=draft,
                          effective_at=timezone.now() - timedelta(minutes=1))
    changesets.remove_item(actor=supervisor, item=draft.items.get())
    with pytest.raises(ValidationError):
        changesets.submit(actor=supervisor, change_set=draft)


def test_a_rejected_change_set_applies_nothing(supervisor, other_supervisor):
    rule = deciding_rule()
    change_set = submitted_edit(supervisor, rule)
    with pytest.raises(ValidationError):
        changesets.reject(actor=other_supervisor, change_set=change_set, reason=" ")

    changesets.reject(actor=other_supervisor, change_set=change_set, reason="too strict")

    change_set.refresh_from_db()
    assert change_set.state == CS.REJECTED
    assert change_set.rejected_by == other_supervisor
    with pytest.raises(Conflict):
        changesets.approve(actor=other_supervisor, change_set=change_set)
    assert rule.history.latest().history_change_reason.startswith("default table")


# --- four eyes -------------------------------------------------------------------------------

def test_the_author_never_approves_their_own_change_set(supervisor):
    change_set = submitted_edit(supervisor, deciding_rule())
    with pytest.raises(PermissionDenied):
        changesets.approve(actor=supervisor, change_set=change_set)


@pytest.mark.parametrize("approver", ["qa_inspector", "agent", "senior_agent"])
def test_roles_without_the_approval_permission_cannot_approve(request, supervisor, approver):
    change_set = submitted_edit(supervisor, deciding_rule())
    with pytest.raises(PermissionDenied):
        changesets.approve(actor=request.getfixturevalue(approver), change_set=change_set)
    change_set.refresh_from_db()
    assert change_set.state == CS.SUBMITTED


@pytest.mark.parametrize("drafter", ["qa_inspector", "agent", "risk_officer"])
def test_only_supervisors_draft_changes(request, drafter):
    with pytest.raises(PermissionDenied):
        lower_threshold(request.getfixturevalue(drafter), deciding_rule())


def test_a_draft_cannot_be_approved_before_it_is_submitted(supervisor, other_supervisor):
    draft = lower_threshold(supervisor, deciding_rule()).change_set
    with pytest.raises(Conflict):
        changesets.approve(actor=other_supervisor, change_set=draft)


def test_a_risk_officer_may_approve_a_rule_change(supervisor, risk_officer):
    change_set = submitted_edit(supervisor, deciding_rule())
    changesets.approve(actor=risk_officer, change_set=change_set)
    change_set.refresh_from_db()
    assert change_set.state == CS.PUBLISHED


# Approval-limit changes need a supervisor (not the author) and risk/legal, in either order.
@pytest.mark.parametrize(("approvers", "states"), [
    (["other_supervisor", "risk_officer"], [CS.SUBMITTED, CS.PUBLISHED]),
    (["risk_officer", "other_supervisor"], [CS.SUBMITTED, CS.PUBLISHED]),
    (["risk_officer"], [CS.SUBMITTED]),
    (["other_supervisor"], [CS.SUBMITTED]),
])
def test_an_approval_limit_change_needs_a_supervisor_and_risk_legal(
        request, supervisor, supervisor_limit, approvers, states):
    item = changesets.propose_limit(actor=supervisor, limit=supervisor_limit,
                                    values={"max_amount": Decimal("99999999")})
    change_set = changesets.submit(actor=supervisor, change_set=item.change_set)

    seen = []
    for name in approvers:
        changesets.approve(actor=request.getfixturevalue(name), change_set=change_set)
        change_set.refresh_from_db()
        seen.append(change_set.state)

    assert seen == states
    supervisor_limit.refresh_from_db()
    raised = supervisor_limit.max_amount == Decimal("99999999")
    assert raised == (states[-1] == CS.PUBLISHED)


def test_one_person_fills_one_approval_only(supervisor, other_supervisor, supervisor_limit):
    item = changesets.propose_limit(actor=supervisor, limit=supervisor_limit,
                                    values={"max_amount": Decimal("30000")})
    change_set = changesets.submit(actor=supervisor, change_set=item.change_set)
    changesets.approve(actor=other_supervisor, change_set=change_set)
    with pytest.raises(Conflict):
        changesets.approve(actor=other_supervisor, change_set=change_set)


# --- stale base, rollback, schedule ------------------------------------------------------------

def test_a_change_set_drafted_on_an_older_version_of_a_row_is_refused(
        supervisor, other_supervisor, english_messages):
    rule = deciding_rule()
    stale = submitted_edit(supervisor, rule)
    newer = changesets.propose_rule(actor=other_supervisor, rule=rule, values={
        **changesets.values_of(rule), "refund_cap": Decimal("80.00")})
    changesets.submit(actor=other_supervisor, change_set=newer.change_set)
    changesets.approve(actor=supervisor, change_set=newer.change_set)  # published first

    with pytest.raises(Conflict) as refused:
        changesets.approve(actor=other_supervisor, change_set=stale)

    assert refused.value.code == "stale_base"
    assert "changed" in refused.value.message
    assert "draft the change again" in refused.value.message
    stale.refresh_from_db()
    rule.refresh_from_db()
    assert stale.state == CS.SUBMITTED  # nothing of it was applied, not even the approval
    assert not stale.approvals.exists()
    assert rule.max_item_amount != Decimal("50.00")
    assert rule.refund_cap == Decimal("80.00")


def test_a_published_change_set_is_rolled_back_by_an_approved_rollback(supervisor,
                                                                         other_supervisor):
    rule = deciding_rule()
    before = rule.max_item_amount
    change_set = submitted_edit(supervisor, rule)
    changesets.approve(actor=other_supervisor, change_set=change_set)

    rollback = changesets.roll_back(actor=supervisor, change_set=change_set)
    assert rollback.state == CS.SUBMITTED
    assert rollback.rollback_of == change_set
    with pytest.raises(Conflict):
        changesets.roll_back(actor=supervisor, change_set=change_set)
    changesets.approve(actor=other_supervisor, change_set=rollback)

    rule.refresh_from_db()
    change_set.refresh_from_db()
    assert rule.max_item_amount == before
    assert change_set.state == CS.ROLLED_BACK
    assert deciding_rule().pk == rule.pk
    assert rule.history.latest().history_change_reason.startswith(f"changeset:{rollback.pk} — ")


def test_rolling_back_a_new_rule_deactivates_it(supervisor, other_supervisor):
    changesets.propose_copies(actor=supervisor, rules=[deciding_rule()])
    draft = PolicyChangeSet.objects.get(author=supervisor, state=CS.DRAFT)
    item = draft.items.get()
    changesets.propose_rule(actor=supervisor, rule=None,
                            values={**item.after, "name": "Trial rule", "is_active": True})
    item.delete()  # keep only the active new rule in the set
    changesets.submit(actor=supervisor, change_set=draft)
    changesets.approve(actor=other_supervisor, change_set=draft)
    created = PolicyRule.objects.get(name="Trial rule")
    assert created.is_active

    rollback = changesets.roll_back(actor=other_supervisor, change_set=draft)
    changesets.approve(actor=supervisor, change_set=rollback)

    created.refresh_from_db()
    assert not created.is_active


def test_a_row_changed_after_publication_is_not_rolled_back_silently(supervisor,
                                                                      other_supervisor):
    rule = deciding_rule()
    first = submitted_edit(supervisor, rule)
    changesets.approve(actor=other_supervisor, change_set=first)
    rule.refresh_from_db()
    second = changesets.propose_rule(actor=supervisor, rule=rule, values={
        **changesets.values_of(rule), "refund_cap": Decimal("70.00")})
    changesets.submit(actor=supervisor, change_set=second.change_set)
    changesets.approve(actor=other_supervisor, change_set=second.change_set)

    with pytest.raises(Conflict) as refused:
        changesets.roll_back(actor=supervisor, change_set=first)
    assert refused.value.code == "stale_base"


def test_a_scheduled_change_set_is_published_by_the_schedule_at_its_time(supervisor,
                                                                          other_supervisor):
    rule = deciding_rule()
    effective = timezone.now() + timedelta(hours=2)
    change_set = submitted_edit(supervisor, rule, effective_at=effective)
    changesets.approve(actor=other_supervisor, change_set=change_set)
    change_set.refresh_from_db()
    assert change_set.state == CS.APPROVED

    assert publish_due_change_sets_task() == {"published": [], "refused": []}
    rule.refresh_from_db()
    assert rule.max_item_amount != Decimal("50.00")

    with time_machine.travel(effective + timedelta(minutes=1)):
        assert publish_due_change_sets_task() == {"published": [change_set.pk], "refused": []}

    rule.refresh_from_db()
    change_set.refresh_from_db()
    assert rule.max_item_amount == Decimal("50.00")
    assert change_set.state == CS.PUBLISHED
    assert rule.history.latest().history_user.username == "system"


def test_a_scheduled_publication_refused_keeps_the_reason_on_the_change_set(
        supervisor, other_supervisor, english_messages):
    rule = deciding_rule()
    effective = timezone.now() + timedelta(hours=2)
    scheduled = submitted_edit(supervisor, rule, effective_at=effective)
    changesets.approve(actor=other_supervisor, change_set=scheduled)
    now = changesets.propose_rule(actor=other_supervisor, rule=rule, values={
        **changesets.values_of(rule), "refund_cap": Decimal("80.00")})
    changesets.submit(actor=other_supervisor, change_set=now.change_set)
    changesets.approve(actor=supervisor, change_set=now.change_set)

    with time_machine.travel(effective + timedelta(minutes=1)):
        assert publish_due_change_sets_task() == {"published": [], "refused": [scheduled.pk]}

    scheduled.refresh_from_db()
    assert scheduled.state == CS.APPROVED
    assert "draft the change again" in scheduled.publish_error


def test_the_publication_schedule_is_registered():
    from django_q.models import Schedule

    from core.tasks import ensure_schedules

    ensure_schedules()
    schedule = Schedule.objects.get(name="Publish policy change sets")
    assert schedule.func == "policies.tasks.publish_due_change_sets_task"
    assert schedule.minutes == 1


def test_a_scheduled_change_set_with_a_stale_base_is_refused_when_approved(supervisor,
                                                                            other_supervisor):
    rule = deciding_rule()
    scheduled = submitted_edit(supervisor, rule, effective_at=timezone.now() + timedelta(hours=2))
    newer = changesets.propose_rule(actor=other_supervisor, rule=rule, values={
        **changesets.values_of(rule), "refund_cap": Decimal("80.00")})
    changesets.submit(actor=other_supervisor, change_set=newer.change_set)
    changesets.approve(actor=supervisor, change_set=newer.change_set)

    with pytest.raises(Conflict) as refused:
        changesets.approve(actor=other_supervisor, change_set=scheduled)

    assert refused.value.code == "stale_base"
    scheduled.refresh_from_db()
    assert scheduled.state == CS.SUBMITTED


def test_the_same_choices_ticked_in_another_order_are_no_change():
    before = changesets.values_of(PolicyRule(reasons=["not_as_described", "quality_defect"]))
    after = changesets.values_of(PolicyRule(reasons=["quality_defect", "not_as_described"]))
    other = changesets.values_of(PolicyRule(reasons=["quality_defect"]))

    assert "reasons" not in changesets.changed_fields(before, after)
    assert "reasons" in changesets.changed_fields(before, other)
