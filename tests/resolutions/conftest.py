"""Fixtures of the money tests: English messages, a small rule table, the approval limits."""

from decimal import Decimal

import pytest

from policies.models import ApprovalLimit, PolicyRule


@pytest.fixture(autouse=True)
def _english_messages(english_messages):
    """These tests read error messages, so they ask for English ones."""


@pytest.fixture
def money_rules(db) -> dict[str, PolicyRule]:
    """A small rule table: refunds of what remains, half refunds, cash and points."""
    PolicyRule.objects.all().delete()
    common = {"source": "test", "reasons": ["quality_defect"]}
    return {
        "refund": PolicyRule.objects.create(
            name="Refund", kind="refund_only", priority=40, verdict="allow",
            refund_rule="item_remaining", **common),
        "half": PolicyRule.objects.create(
            name="Half refund", kind="partial_refund", priority=41, verdict="allow",
            refund_rule="percent_of_item", refund_percent=Decimal("50"), **common),
        "cash": PolicyRule.objects.create(
            name="Cash", kind="compensation_cash", priority=42, verdict="needs_approval",
            approval_role="senior_agent", compensation_min=Decimal("20"), **common),
        "points": PolicyRule.objects.create(
            name="Points", kind="compensation_points", priority=43, verdict="allow",
            points=300, **common),
    }


@pytest.fixture
def approval_limits(db) -> None:
    """agent 50, senior agent 2000, supervisor 20000, risk/legal without limit; no other rows."""
    ApprovalLimit.objects.all().delete()
    for role, amount in [("agent", "50"), ("senior_agent", "2000"), ("supervisor", "20000")]:
        ApprovalLimit.objects.create(role=role, max_amount=Decimal(amount))
    ApprovalLimit.objects.create(role="risk_legal", max_amount=None)
