"""When nothing can be offered, the decision says why and what would change it; an option
with nothing to give is never offered (issue 17, point 2). Pure tables, no database."""

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from policies import engine
from policies.services.defaults import default_rules
from policies.views.presentation import what_would_change

SHANGHAI = ZoneInfo("Asia/Shanghai")
SIGNED = datetime(2026, 6, 1, 10, 0, tzinfo=SHANGHAI)
TABLE = engine.compile_rules(default_rules())


def fridge(**changes) -> engine.Facts:
    """A ¥4,599 fridge with a quality fault, signed for two hours ago, no evidence yet."""
    values = {
        "at": SIGNED + timedelta(hours=2), "order_paid_amount": Decimal("4599.00"),
        "paid_at": SIGNED - timedelta(days=3), "shipped_at": SIGNED - timedelta(days=2),
        "signed_at": SIGNED, "item_category": "large_appliance",
        "item_paid_amount": Decimal("4599.00"), "reason": "quality_defect",
        "item_condition": "intact", "warranty_days": 365, "promised_delivery_at": None,
        "customer_tier": "normal", "item_flags": frozenset(), "item_quantity": 1,
        "already_refunded": Decimal("0.00"), "evidence": frozenset(), "refunds_90d": 0,
        "disputes_90d": 0, "merchant_silent_hours": Decimal("0"),
    }
    values.update(changes)
    return engine.Facts(**values)


# --- why, and what would change it ---------------------------------------------------------

def test_the_fridge_without_evidence_is_offered_nothing_and_the_trace_says_what_would_help():
    decision = engine.decide(fridge(), TABLE)

    assert decision.options == ()
    missing = {(entry.kind, entry.rule_name): [hint.key for hint in entry.hints]
               for entry in engine.near_misses(decision.trace)}
    evidence = ["the customer provides one of: %(expected)s"]
    assert missing[("return_refund", "Quality defect within 72 h")] == evidence
    assert missing[("exchange", "Quality defect within 72 h: exchange")] == evidence
    assert missing[("repair", "Repair within warranty")] == evidence
    # Rows that differ in what cannot change (reason, category, customer history) are left out.
    assert ("refund_only", "Frequent refunder review (refunds), refund only") not in missing
    assert ("reissue", "Parcel lost, carrier confirmed: reissue") not in missing


def test_the_panel_text_names_the_evidence_and_the_options_it_opens():
    decision = engine.decide(fridge(), TABLE)

    with translation.override("en"):
        shown = what_would_change(decision.trace)

    assert any(reason.startswith("Evidence has none of") for reason in shown["why"])
    by_need = {group["needed"]: group["options"] for group in shown["would_allow"]}
    photo_or_video = "the customer provides one of: Photo, Video"
    assert "Return and refund (Quality defect within 72 h)" in by_need[photo_or_video]
    assert "Exchange (Quality defect within 72 h: exchange)" in by_need[photo_or_video]
    assert "Repair (Repair within warranty)" in by_need[
        "the customer provides one of: Inspection report, Photo, Video"]
    assert "the merchant has not answered for 48 hours" in by_need


@pytest.mark.parametrize(("facts", "option_kinds"), [
    pytest.param(fridge(evidence=frozenset({"photo"})),
                 {"return_refund", "exchange", "repair", "partial_refund"}, id="with a photo"),
    pytest.param(fridge(at=SIGNED + timedelta(hours=100), evidence=frozenset({"photo"})),
                 {"return_refund", "repair"}, id="a photo, after 72 hours"),
    pytest.param(fridge(at=SIGNED + timedelta(hours=100),
                        evidence=frozenset({"inspection_report"})),
                 {"return_refund", "repair", "partial_refund"}, id="a report, after 72 hours"),
])
def test_the_evidence_the_hints_name_does_open_the_options(facts, option_kinds):
    decision = engine.decide(facts, TABLE)

    assert {option.kind for option in decision.options} == option_kinds


def test_a_rule_that_fails_on_its_reason_is_no_near_miss():
    decision = engine.decide(fridge(reason="wrong_item"), TABLE)

    assert all(entry.rule_name != "Quality defect within 72 h"
               for entry in engine.near_misses(decision.trace))


# --- nothing to give -----------------------------------------------------------------------

def test_after_a_full_refund_no_return_or_refund_of_zero_is_offered():
    facts = fridge(evidence=frozenset({"photo"}), already_refunded=Decimal("4599.00"))

    decision = engine.decide(facts, TABLE)

    kinds = {option.kind for option in decision.options}
    assert "return_refund" not in kinds
    assert "partial_refund" not in kinds
    assert {"exchange", "repair"} <= kinds  # goods and service still have something to give
    for option in decision.options:
        assert engine.gives_something(option)


RULE = engine.Rule(id=1, name="Half", version=1, kind="partial_refund", priority=1,
                   refund_rule="percent_of_item", refund_percent=Decimal("50"))


@pytest.mark.parametrize(("rule", "offered"), [
    pytest.param(RULE, True, id="half of the item"),
    pytest.param(replace(RULE, refund_percent=Decimal("0")), False, id="0 percent"),
    pytest.param(replace(RULE, refund_cap=Decimal("0")), False, id="a cap of 0"),
    pytest.param(replace(RULE, refund_rule="none", compensation_percent=Decimal("0")), False,
                 id="compensation of 0"),
    pytest.param(replace(RULE, refund_rule="none", kind="compensation_points", points=100),
                 True, id="points only"),
    pytest.param(replace(RULE, refund_cap=Decimal("0"), coupon_amount=Decimal("5")), True,
                 id="a coupon besides"),
    pytest.param(replace(RULE, refund_rule="none", kind="exchange"), True, id="an exchange"),
    pytest.param(replace(RULE, refund_rule="none", kind="repair"), True, id="a repair"),
    pytest.param(replace(RULE, refund_rule="none", kind="extended_warranty",
                         warranty_extension_months=6), True, id="more warranty"),
    pytest.param(replace(RULE, refund_percent=Decimal("0"), verdict="deny"), True,
                 id="a deny is still shown"),
])
def test_an_option_with_nothing_to_give_is_not_offered(rule, offered):
    decision = engine.decide(fridge(), [rule])

    assert (decision.option(rule.kind) is not None) is offered
    entry = decision.trace[0]
    if offered:
        assert entry.outcome == "matched"
    else:
        assert entry.outcome == "not_matched"
        assert entry.reasons[-1].key.startswith("The rule would give nothing here")


def test_a_rule_with_nothing_to_give_lets_the_next_rule_of_its_kind_decide():
    nothing = replace(RULE, refund_percent=Decimal("0"))
    fallback = replace(RULE, id=2, priority=2, name="Fallback", refund_percent=Decimal("10"))

    option = engine.decide(fridge(), [nothing, fallback]).option("partial_refund")

    assert option is not None
    assert option.rule_id == 2
    assert option.refund_amount == Decimal("459.90")
