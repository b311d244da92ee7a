"""Two approvers at the same moment (PostgreSQL row locks): a change set is published once."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from core.models.roles import Role
from core.services.exceptions import Conflict
from policies.models import ChangeSetState, PolicyChangeSet, PolicyRule
from policies.services import changesets
from tests.concurrency import run_together
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _supervisor(username):
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=Role.SUPERVISOR))
    return user


def test_two_approvers_at_once_publish_the_change_set_once(risk_officer):
    author, approver = _supervisor("sup_a"), _supervisor("sup_b")
    rule = PolicyRule.objects.create(
        name="Small refund", kind="refund_only", priority=30, reasons=["quality_defect"],
        max_item_amount=Decimal("100"), verdict="allow", refund_rule="item_remaining",
        source="test")
    item = changesets.propose_rule(actor=author, rule=rule, values={
        **changesets.values_of(rule), "max_item_amount": Decimal("50")})
    change_set = changesets.submit(actor=author, change_set=item.change_set)

    def approve_as(user):
        def job(barrier):
            fresh = PolicyChangeSet.objects.get(pk=change_set.pk)
            barrier.wait()
            return changesets.approve(actor=user, change_set=fresh)
        return job

    results = run_together(approve_as(approver), approve_as(risk_officer))

    refused = [result for result in results if isinstance(result, Exception)]
    assert len(refused) == 1, results
    assert isinstance(refused[0], Conflict)
    change_set.refresh_from_db()
    assert change_set.state == ChangeSetState.PUBLISHED
    assert change_set.approvals.count() == 1
    published = rule.history.filter(history_change_reason__startswith=f"changeset:{change_set.pk}")
    assert published.count() == 1
    rule.refresh_from_db()
    assert rule.max_item_amount == Decimal("50.00")
