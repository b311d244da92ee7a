"""Fixtures of the change-set tests: a second supervisor, a risk officer, one live rule."""

import pytest
from django.contrib.auth.models import Group

from core.models.roles import Role
from policies.models import ApprovalLimit, PolicyRule
from tests.factories import UserFactory


@pytest.fixture
def other_supervisor(db):
    user = UserFactory(username="supervisor_sun", is_staff=True)
    user.groups.add(Group.objects.get(name=Role.SUPERVISOR))
    return user


@pytest.fixture
def small_refund_rule(db) -> PolicyRule:
    """The default 秒退 rule: small quality refunds executed at once."""
    return PolicyRule.objects.filter(kind="refund_only", auto_execute=True).order_by("priority").first()


@pytest.fixture
def supervisor_limit(db) -> ApprovalLimit:
    return ApprovalLimit.objects.get(role=Role.SUPERVISOR)
