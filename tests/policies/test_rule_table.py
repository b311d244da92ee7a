"""The rule table in the database: defaults, validation, versions, admin edits, import/export."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from policies import engine
from policies.models import ApprovalLimit, PolicyRule
from policies.services import rulebook
from policies.services.defaults import DEFAULT_APPROVAL_LIMITS, DEFAULT_RULES

pytestmark = pytest.mark.django_db


def small_refund_facts(item_amount="88.00"):
    now = timezone.now()
    return engine.Facts(
        at=now, order_paid_amount=Decimal(item_amount), paid_at=now - timedelta(days=4),
        shipped_at=now - timedelta(days=3), signed_at=now - timedelta(days=1),
        promised_delivery_at=None, customer_tier="normal", item_category="electronics",
        item_flags=frozenset(), item_paid_amount=Decimal(item_amount), item_quantity=1,
        already_refunded=Decimal("0"), warranty_days=365, reason="quality_defect",
        item_condition="opened", evidence=frozenset({"photo"}), refunds_90d=0, disputes_90d=0,
        merchant_silent_hours=Decimal("0"),
    )


def refund_option(decision):
    return next((option for option in decision.options if option.kind == "refund_only"), None)


def test_the_default_table_is_loaded_valid_and_cited():
    rules = PolicyRule.objects.all()

    assert rules.count() == len(DEFAULT_RULES)
    for rule in rules:
        rule.full_clean()
        assert rule.source, rule.name
        # Created with the table, then given its explanations for agents (migration 0008).
        assert [entry.history_change_reason for entry in rule.history.order_by("history_id")] \
            == ["default table", "default table: explanations for agents"]
    assert {limit.role: limit.max_amount for limit in ApprovalLimit.objects.all()} == \
        DEFAULT_APPROVAL_LIMITS


@pytest.mark.parametrize(("change", "field"), [
    ({"min_order_amount": Decimal("100"), "max_order_amount": Decimal("50")}, "max_order_amount"),
    ({"compensation_min": Decimal("50"), "compensation_cap": Decimal("10")}, "compensation_cap"),
    ({"compensation_percent": Decimal("130")}, "compensation_percent"),
    ({"refund_percent": Decimal("101")}, "refund_percent"),
    ({"after_days": 7, "within_days": 7}, "within_days"),
    ({"verdict": "needs_approval", "approval_role": ""}, "approval_role"),
    ({"reasons": ["because"]}, "reasons"),
    ({"required_flags": ["custom_made"], "excluded_flags": ["custom_made"]}, "excluded_flags"),
    ({"verdict": "deny", "refund_rule": "item_remaining"}, "verdict"),
])
def test_bad_rule_rows_are_refused_with_a_field_error(change, field):
    rule = PolicyRule(name="x", kind="refund_only", priority=1, **change)

    with pytest.raises(ValidationError) as refused:
        rule.full_clean()

    assert field in refused.value.message_dict


def test_a_statutory_rule_may_exceed_100_percent():
    PolicyRule(name="假一赔三", kind="compensation_cash", priority=1, statutory=True,
               verdict="needs_approval", approval_role="risk_legal",
               compensation_percent=Decimal("300"), compensation_min=Decimal("500")).full_clean()


def test_the_compiled_table_is_reused_until_a_rule_changes(django_assert_num_queries):
    rulebook.current_rules()
    with django_assert_num_queries(1):  # only the version check
        rulebook.current_rules()

    rule = PolicyRule.objects.first()
    rule.priority += 1
    rule.save()

    version, _compiled = rulebook.current_rules()
    assert version == rule.history.latest().history_id


def test_the_table_exports_to_a_spreadsheet():
    from policies.admin import PolicyRuleResource

    dataset = PolicyRuleResource().export()
    assert len(dataset) == PolicyRule.objects.count()
    assert "no_reason" in dataset.csv
    assert "max_item_amount" in dataset.headers


def test_the_simulator_shows_options_trace_and_deciding_rules(client, supervisor):
    client.force_login(supervisor)
    signed = timezone.localtime() - timedelta(days=1)

    response = client.get(reverse("policy-simulator"), {
        "order_paid_amount": "88.00", "customer_tier": "normal",
        "paid_at": (signed - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        "shipped_at": (signed - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        "signed_at": signed.strftime("%Y-%m-%dT%H:%M"),
        "item_category": "electronics", "item_paid_amount": "88.00", "already_refunded": "0",
        "reason": "quality_defect", "item_condition": "opened", "evidence": ["photo"],
        "refunds_90d": "0", "disputes_90d": "0", "merchant_silent_hours": "0",
    })

    assert response.status_code == 200
    assert response.context["options"]
    assert response.context["trace"]
    page = response.content.decode()
    assert 'id="trace"' in page
    assert 'data-kind="refund_only"' in page
    assert response.context["deciding_rules"].exists()


def test_the_simulator_takes_the_facts_from_a_ticket(client, supervisor, make_ticket):
    from tests.factories import OrderItemFactory

    item = OrderItemFactory()
    ticket = make_ticket(customer=item.order.customer, order=item.order, order_item=item,
                         request_reason="quality_defect", item_condition="opened")
    client.force_login(supervisor)

    response = client.get(reverse("policy-simulator"), {"ticket": ticket.number})

    assert response.context["ticket"] == ticket
    assert response.context["options"]


def test_agents_do_not_get_the_simulator(client, agent):
    client.force_login(agent)

    assert client.get(reverse("policy-simulator")).status_code == 403


def test_docs_policies_lists_every_default_row_with_its_source():
    """Issue 16 point 5: docs/POLICIES.md is the readable form of the whole default table."""
    from pathlib import Path

    from policies.services.defaults import DEFAULT_RULES

    text = (Path(__file__).resolve().parents[2] / "docs" / "POLICIES.md").read_text()
    for row in DEFAULT_RULES:
        line = f"| {row['priority']} | {row['name_zh']} / {row['name']} |"
        assert line in text, row["name"]
        (listed,) = [entry for entry in text.splitlines() if entry.startswith(line)]
        assert listed.rstrip().endswith(f"| {row['source']} |"), row["name"]
