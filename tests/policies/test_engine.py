"""The policy engine against the default table: pure tables over Facts, no database."""

import json
from dataclasses import asdict, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.engine import (
    PLAIN_KEY,
    PLATFORM_CAP_PERCENT,
    REVIEWERS,
    Decision,
    Facts,
    Message,
    Option,
    OrderStage,
    Rule,
    TraceEntry,
    compile_rules,
    decide,
    gives_something,
    money,
)
from policies.services.defaults import DEFAULT_APPROVAL_LIMITS, DEFAULT_RULES, default_rules

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Signed for late in the evening, so calendar days and elapsed hours part ways.
SIGNED = datetime(2026, 6, 1, 22, 30, tzinfo=SHANGHAI)

RULES = default_rules()
TABLE = compile_rules(RULES)
RULES_BY_NAME = {rule.name: rule for rule in RULES}
RULES_BY_ID = {rule.id: rule for rule in RULES}


def make_facts(**overrides: Any) -> Facts:
    """Return the facts of a plain signed order two days after sign-off, changed by overrides."""
    values: dict[str, Any] = {
        "at": SIGNED + timedelta(days=2),
        "order_paid_amount": Decimal("300.00"),
        "paid_at": SIGNED - timedelta(days=3),
        "shipped_at": SIGNED - timedelta(days=2),
        "signed_at": SIGNED,
        "promised_delivery_at": None,
        "customer_tier": "normal",
        "item_category": "home",
        "item_flags": frozenset(),
        "item_paid_amount": Decimal("300.00"),
        "item_quantity": 1,
        "already_refunded": Decimal("0.00"),
        "warranty_days": None,
        "reason": "no_reason",
        "item_condition": "intact",
        "evidence": frozenset(),
        "refunds_90d": 0,
        "disputes_90d": 0,
        "merchant_silent_hours": Decimal("0"),
    }
    values.update(overrides)
    return Facts(**values)


def hours_after_sign_off(hours: float) -> datetime:
    return SIGNED + timedelta(hours=hours)


def days_after_sign_off(days: int) -> datetime:
    return SIGNED + timedelta(days=days)


def rendered(messages: tuple[Message, ...]) -> list[str]:
    return [message.render() for message in messages]


def decided_by(decision: Decision, kind: str) -> Option:
    option = decision.option(kind)
    assert option is not None, f"no {kind} option; trace: {trace_of(decision, kind)}"
    return option


def trace_of(decision: Decision, kind: str) -> list[tuple[str, str, list[str]]]:
    return [
        (entry.rule_name, entry.outcome, rendered(entry.reasons))
        for entry in decision.trace if entry.kind == kind
    ]


def entry_for(decision: Decision, name: str):
    (entry,) = [entry for entry in decision.trace if entry.rule_name == name]
    return entry


M = "merchant"  # short, to keep the table below one case per few lines
ZERO = Decimal("0.00")

# One case per default row: facts that make exactly that row decide its kind, and the
# option it must give: verdict, approval role, refund, compensation, coupon, points,
# freight payer, payer, automatic execution.
ROW_CASES = {
    "Cancel before shipment: automatic refund": (
        {"shipped_at": None, "signed_at": None, "reason": "other"},
        ("refund_only", "allow", "", "300.00", "0", "0", 0, "", M, True),
    ),
    "Frequent refunder review (refunds), refund only": (
        {"refunds_90d": 5, "reason": "quality_defect", "evidence": frozenset({"photo"})},
        ("refund_only", "needs_approval", "risk_legal", "300.00", "0", "0", 0, "", M, False),
    ),
    "Frequent refunder review (disputes), refund only": (
        {"disputes_90d": 2, "reason": "quality_defect", "evidence": frozenset({"photo"})},
        ("refund_only", "needs_approval", "risk_legal", "300.00", "0", "0", 0, "", M, False),
    ),
    "Advance payout, merchant silent 48 h": (
        {"reason": "quality_defect", "merchant_silent_hours": Decimal("48")},
        ("refund_only", "allow", "", "300.00", "0", "0", 0, "", "platform", True),
    ),
    "Instant small refund, transport damage": (
        {"reason": "logistics_damage", "item_paid_amount": Decimal("80.00"),
         "order_paid_amount": Decimal("80.00"), "evidence": frozenset({"video"})},
        ("refund_only", "allow", "", "80.00", "0", "0", 0, "", "carrier", True),
    ),
    "Instant small refund": (
        {"reason": "quality_defect", "item_paid_amount": Decimal("100.00"),
         "evidence": frozenset({"photo"})},
        ("refund_only", "allow", "", "100.00", "0", "0", 0, "", M, True),
    ),
    "Perishable arrived bad": (
        {"item_flags": frozenset({"perishable"}), "item_category": "food_fresh",
         "reason": "quality_defect", "at": hours_after_sign_off(24),
         "evidence": frozenset({"photo"})},
        ("refund_only", "allow", "", "300.00", "0", "0", 0, "", M, False),
    ),
    "Custom-made: no no-reason return": (
        {"item_flags": frozenset({"custom_made"})},
        ("return_refund", "deny", "", "0", "0", "0", 0, "", "", False),
    ),
    "Perishable: no no-reason return": (
        {"item_flags": frozenset({"perishable"})},
        ("return_refund", "deny", "", "0", "0", "0", 0, "", "", False),
    ),
    "Digital goods downloaded or unsealed: no no-reason return": (
        {"item_flags": frozenset({"digital"})},
        ("return_refund", "deny", "", "0", "0", "0", 0, "", "", False),
    ),
    "Delivered newspapers and periodicals: no no-reason return": (
        {"item_flags": frozenset({"periodical"})},
        ("return_refund", "deny", "", "0", "0", "0", 0, "", "", False),
    ),
    "Confirmed non-returnable at purchase": (
        {"item_flags": frozenset({"no_return_confirmed"})},
        ("return_refund", "deny", "", "0", "0", "0", 0, "", "", False),
    ),
    "Hygiene seal broken: no no-reason return": (
        {"item_flags": frozenset({"hygiene_sealed"}), "item_condition": "opened"},
        ("return_refund", "deny", "", "0", "0", "0", 0, "", "", False),
    ),
    "No-reason return, item used or damaged": (
        {"item_condition": "used"},
        ("return_refund", "deny", "", "0", "0", "0", 0, "", "", False),
    ),
    "No-reason window expired": (
        {"at": days_after_sign_off(8)},
        ("return_refund", "deny", "", "0", "0", "0", 0, "", "", False),
    ),
    "Frequent refunder review (refunds), return": (
        {"refunds_90d": 6},
        ("return_refund", "needs_approval", "risk_legal", "300.00", "0", "0", 0, "", M, False),
    ),
    "Frequent refunder review (disputes), return": (
        {"disputes_90d": 3},
        ("return_refund", "needs_approval", "risk_legal", "300.00", "0", "0", 0, "", M, False),
    ),
    "Advance payout, merchant silent 48 h, return": (
        {"reason": "quality_defect", "merchant_silent_hours": Decimal("60")},
        ("return_refund", "allow", "", "300.00", "0", "0", 0, M, "platform", True),
    ),
    "Advance payout, merchant silent 48 h, no-reason return": (
        {"merchant_silent_hours": Decimal("48")},
        ("return_refund", "allow", "", "300.00", "0", "0", 0, "customer", "platform", True),
    ),
    "Flash refund when the return is shipped": (
        {"item_paid_amount": Decimal("200.00"), "order_paid_amount": Decimal("200.00")},
        ("return_refund", "allow", "", "200.00", "0", "0", 0, "customer", M, True),
    ),
    "No-reason return with freight insurance": (
        {"item_flags": frozenset({"freight_insured"}), "item_paid_amount": Decimal("150.00")},
        ("return_refund", "allow", "", "150.00", "0", "0", 0, "insurer", M, False),
    ),
    "No-reason return within 7 days": (
        {"item_condition": "opened"},
        ("return_refund", "allow", "", "300.00", "0", "0", 0, "customer", M, False),
    ),
    "Quality defect within 72 h": (
        {"reason": "quality_defect", "evidence": frozenset({"photo"})},
        ("return_refund", "allow", "", "300.00", "0", "0", 0, M, M, False),
    ),
    "Quality defect with inspection report within 7 days": (
        {"reason": "quality_defect", "at": days_after_sign_off(5),
         "evidence": frozenset({"inspection_report"})},
        ("return_refund", "allow", "", "300.00", "0", "0", 0, M, M, False),
    ),
    "Late quality claim without inspection report": (
        {"reason": "quality_defect", "at": days_after_sign_off(5),
         "evidence": frozenset({"photo"})},
        ("return_refund", "needs_approval", "senior_agent", "300.00", "0", "0", 0, M, M, False),
    ),
    "Transport damage: return": (
        {"reason": "logistics_damage", "evidence": frozenset({"photo"})},
        ("return_refund", "allow", "", "300.00", "0", "0", 0, M, "carrier", False),
    ),
    "Wrong item: return": (
        {"reason": "wrong_item", "at": days_after_sign_off(5), "evidence": frozenset({"photo"})},
        ("return_refund", "allow", "", "300.00", "0", "0", 0, M, M, False),
    ),
    "Not as described: return": (
        {"reason": "not_as_described", "at": days_after_sign_off(5),
         "evidence": frozenset({"screenshot"})},
        ("return_refund", "allow", "", "300.00", "0", "0", 0, M, M, False),
    ),
    "Counterfeit confirmed: return and refund": (
        {"reason": "counterfeit", "at": days_after_sign_off(30),
         "evidence": frozenset({"inspection_report"})},
        ("return_refund", "allow", "", "300.00", "0", "0", 0, M, M, False),
    ),
    "Size or colour exchange within 7 days": (
        {"item_category": "apparel"},
        ("exchange", "allow", "", "0", "0", "0", 0, "customer", M, False),
    ),
    "Quality defect within 72 h: exchange": (
        {"reason": "quality_defect", "evidence": frozenset({"video"})},
        ("exchange", "allow", "", "0", "0", "0", 0, M, M, False),
    ),
    "三包 exchange within 15 days": (
        {"item_flags": frozenset({"sanbao"}), "reason": "quality_defect",
         "at": days_after_sign_off(10), "evidence": frozenset({"inspection_report"})},
        ("exchange", "allow", "", "0", "0", "0", 0, M, M, False),
    ),
    "Wrong item: exchange": (
        {"reason": "wrong_item", "evidence": frozenset({"photo"})},
        ("exchange", "allow", "", "0", "0", "0", 0, M, M, False),
    ),
    "Repair within warranty": (
        {"reason": "quality_defect", "warranty_days": 365, "at": days_after_sign_off(100),
         "evidence": frozenset({"photo"})},
        ("repair", "allow", "", "0", "0", "0", 0, M, M, False),
    ),
    "Minor flaw, customer keeps the item": (
        {"reason": "quality_defect", "evidence": frozenset({"photo"})},
        ("partial_refund", "allow", "", "60.00", "0", "0", 0, "", M, False),
    ),
    "Transport damage: reissue": (
        {"reason": "logistics_damage", "evidence": frozenset({"video"})},
        ("reissue", "allow", "", "0", "0", "0", 0, M, "carrier", False),
    ),
    "Missing item: reissue": (
        {"reason": "missing_item", "evidence": frozenset({"logistics_proof"})},
        ("reissue", "allow", "", "0", "0", "0", 0, "", M, False),
    ),
    "Late shipment compensation": (
        {"reason": "late_shipment", "order_paid_amount": Decimal("200.00")},
        ("compensation_coupon", "allow", "", "0", "20.00", "0", 0, "", M, True),
    ),
    "Missed delivery promise, VIP": (
        {"reason": "delivery_timeout", "customer_tier": "svip"},
        ("compensation_coupon", "allow", "", "0", "0", "10.00", 0, "", M, True),
    ),
    "Missed delivery promise": (
        {"reason": "delivery_timeout"},
        ("compensation_coupon", "allow", "", "0", "0", "5.00", 0, "", M, True),
    ),
    "Missed delivery promise: points": (
        {"reason": "delivery_timeout"},
        ("compensation_points", "allow", "", "0", "0", "0", 500, "", M, True),
    ),
    "Counterfeit confirmed: statutory triple compensation": (
        {"reason": "counterfeit", "evidence": frozenset({"inspection_report"}),
         "claims_statutory": True},
        ("compensation_cash", "needs_approval", "risk_legal", "0", "900.00", "0", 0, "", M,
         False),
    ),
    "Counterfeit claim awaiting appraisal: compensation": (
        {"reason": "counterfeit", "evidence": frozenset({"photo", "chat_record"})},
        ("compensation_cash", "needs_approval", "complaint_specialist", "0", "90.00", "0", 0,
         "", M, False),
    ),
    "VIP goodwill beyond warranty": (
        {"reason": "quality_defect", "customer_tier": "vip", "warranty_days": 365,
         "at": days_after_sign_off(400)},
        ("compensation_coupon", "needs_approval", "supervisor", "0", "30.00", "0", 0, "",
         "platform", False),
    ),
    # --- issue 16 ---
    "VIP goodwill beyond warranty: extended warranty": (
        {"reason": "quality_defect", "customer_tier": "vip", "warranty_days": 365,
         "at": days_after_sign_off(400)},
        ("extended_warranty", "needs_approval", "supervisor", "0", "0", "0", 0, "",
         "platform", False),
    ),
    "Quality defect, sign-off time unknown: return after review": (
        {"reason": "quality_defect", "signed_at": None, "evidence": frozenset({"photo"})},
        ("return_refund", "needs_approval", "senior_agent", "300.00", "0", "0", 0, M, M, False),
    ),
    "Refused at the door: damaged parcel": (
        {"reason": "refused_at_door", "signed_at": None, "item_condition": "damaged",
         "evidence": frozenset({"photo"})},
        ("return_refund", "allow", "", "300.00", "0", "0", 0, M, "carrier", True),
    ),
    "Refused at the door": (
        {"reason": "refused_at_door", "signed_at": None},
        ("return_refund", "allow", "", "300.00", "0", "0", 0, "customer", M, False),
    ),
    "False advertising: return": (
        {"reason": "false_advertising", "at": days_after_sign_off(20),
         "evidence": frozenset({"screenshot"})},
        ("return_refund", "allow", "", "300.00", "0", "0", 0, M, M, False),
    ),
    "Minor flaw with inspection report, customer keeps the item": (
        {"reason": "quality_defect", "at": days_after_sign_off(5),
         "evidence": frozenset({"inspection_report"})},
        ("partial_refund", "allow", "", "60.00", "0", "0", 0, "", M, False),
    ),
    "Transport damage assessed: refund the repair cost or depreciation": (
        {"reason": "logistics_damage", "item_category": "electronics",
         "at": days_after_sign_off(5), "evidence": frozenset({"inspection_report"}),
         "assessed_damage": Decimal("85.50")},
        ("partial_refund", "allow", "", "85.50", "0", "0", 0, "", "carrier", False),
    ),
    "Parcel lost, carrier confirmed: refund": (
        {"reason": "parcel_lost", "signed_at": None,
         "evidence": frozenset({"logistics_proof"})},
        ("refund_only", "allow", "", "300.00", "0", "0", 0, "", "carrier", False),
    ),
    "Parcel lost, carrier silent 48 h: refund": (
        {"reason": "parcel_lost", "signed_at": None, "carrier_silent_hours": Decimal("48")},
        ("refund_only", "allow", "", "300.00", "0", "0", 0, "", "carrier", False),
    ),
    "Parcel lost, carrier confirmed: reissue": (
        {"reason": "parcel_lost", "signed_at": None,
         "evidence": frozenset({"logistics_proof"})},
        ("reissue", "allow", "", "0", "0", "0", 0, "", "carrier", False),
    ),
    "Parcel lost, carrier silent 48 h: reissue": (
        {"reason": "parcel_lost", "signed_at": None, "carrier_silent_hours": Decimal("50")},
        ("reissue", "allow", "", "0", "0", "0", 0, "", "carrier", False),
    ),
    "Safety hazard: recall": (
        {"reason": "safety_hazard", "at": days_after_sign_off(200)},
        ("recall", "needs_approval", "risk_legal", "300.00", "0", "0", 0, M, M, False),
    ),
    "Unsafe food: refund": (
        {"reason": "food_safety", "item_category": "food_packaged",
         "evidence": frozenset({"photo"})},
        ("refund_only", "allow", "", "300.00", "0", "0", 0, "", M, False),
    ),
    "Unsafe food: statutory tenfold compensation": (
        {"reason": "food_safety", "item_category": "food_packaged",
         "evidence": frozenset({"inspection_report"}), "claims_statutory": True},
        ("compensation_cash", "needs_approval", "risk_legal", "0", "3000.00", "0", 0, "", M,
         False),
    ),
    "False advertising: statutory triple compensation": (
        {"reason": "false_advertising", "evidence": frozenset({"screenshot"}),
         "claims_statutory": True},
        ("compensation_cash", "needs_approval", "risk_legal", "0", "900.00", "0", 0, "", M,
         False),
    ),
    "Out-of-stock compensation": (
        {"reason": "out_of_stock", "shipped_at": None, "signed_at": None,
         "order_paid_amount": Decimal("200.00"), "item_paid_amount": Decimal("200.00")},
        ("compensation_coupon", "allow", "", "0", "20.00", "0", 0, "", M, True),
    ),
    "Refund delayed by the payment channel: points": (
        {"reason": "refund_delayed"},
        ("compensation_points", "allow", "", "0", "0", "0", 200, "", "platform", True),
    ),
}


def test_every_default_row_has_a_case_of_its_own():
    assert set(ROW_CASES) == {row["name"] for row in DEFAULT_RULES}


@pytest.mark.parametrize(("name", "overrides", "expected"), [
    pytest.param(name, overrides, expected, id=name)
    for name, (overrides, expected) in ROW_CASES.items()
])
def test_each_default_row_decides_its_kind_for_the_facts_made_for_it(name, overrides, expected):
    (kind, verdict, approval_role, refund, compensation, coupon, points, freight_payer, payer,
     auto_execute) = expected

    option = decided_by(decide(make_facts(**overrides), TABLE), kind)

    assert option.rule_name == name
    assert option.rule_id == RULES_BY_NAME[name].id
    assert option.rule_version == 1
    assert option.verdict == verdict
    assert option.approval_role == approval_role
    assert option.refund_amount == Decimal(refund)
    assert option.compensation_amount == Decimal(compensation)
    assert option.coupon_amount == Decimal(coupon)
    assert option.points == points
    assert option.freight_payer == freight_payer
    assert option.payer == payer
    assert option.auto_execute is auto_execute


def test_every_default_row_names_its_chinese_name_and_its_source():
    for row in DEFAULT_RULES:
        assert row["name_zh"], row["name"]
        assert row["source"], row["name"]


def test_default_approval_limits_cover_every_role_and_only_risk_legal_is_unlimited():
    assert set(DEFAULT_APPROVAL_LIMITS) == {
        "agent", "senior_agent", "complaint_specialist", "supervisor", "qa", "risk_legal",
    }
    assert [role for role, limit in DEFAULT_APPROVAL_LIMITS.items() if limit is None] == [
        "risk_legal"
    ]


# --- the 7-day window counts calendar days ---------------------------------------------------

@pytest.mark.parametrize(("at", "rule_name", "verdict"), [
    pytest.param(datetime(2026, 6, 8, 23, 59, tzinfo=SHANGHAI),
                 "No-reason return within 7 days", "allow", id="day 7 at 23:59"),
    pytest.param(datetime(2026, 6, 9, 0, 0, tzinfo=SHANGHAI),
                 "No-reason window expired", "deny", id="day 8 at 00:00"),
])
def test_a_no_reason_return_is_allowed_until_midnight_ending_the_seventh_day(
    at, rule_name, verdict
):
    facts = make_facts(at=at)

    option = decided_by(decide(facts, TABLE), "return_refund")

    assert option.rule_name == rule_name
    assert option.verdict == verdict


def test_the_last_minute_of_day_seven_is_more_than_168_hours_after_a_late_sign_off():
    facts = make_facts(at=datetime(2026, 6, 8, 23, 59, tzinfo=SHANGHAI))

    assert facts.days_since_sign_off == 7
    assert facts.hours_since_sign_off is not None
    assert facts.hours_since_sign_off > 168


def test_calendar_days_follow_the_shanghai_calendar_whatever_the_clock_zone():
    signed = datetime(2026, 6, 1, 15, 30, tzinfo=ZoneInfo("UTC"))  # 23:30 in Shanghai
    facts = make_facts(
        signed_at=signed, at=datetime(2026, 6, 1, 16, 30, tzinfo=ZoneInfo("UTC"))
    )

    assert facts.days_since_sign_off == 1
    assert facts.hours_since_sign_off == Decimal(1)


# --- the 72-hour quality rule ----------------------------------------------------------------

@pytest.mark.parametrize(("at", "evidence", "rule_name"), [
    pytest.param(hours_after_sign_off(72), {"photo", "inspection_report"},
                 "Quality defect within 72 h", id="exactly 72 h"),
    pytest.param(hours_after_sign_off(72) + timedelta(minutes=1), {"photo", "inspection_report"},
                 "Quality defect with inspection report within 7 days", id="72 h 1 min, report"),
    pytest.param(hours_after_sign_off(72) + timedelta(minutes=1), {"photo"},
                 "Late quality claim without inspection report", id="72 h 1 min, no report"),
])
def test_quality_claims_need_an_inspection_report_after_72_hours(at, evidence, rule_name):
    facts = make_facts(reason="quality_defect", at=at, evidence=frozenset(evidence))

    option = decided_by(decide(facts, TABLE), "return_refund")

    assert option.rule_name == rule_name


# --- instant refunds (秒退) -------------------------------------------------------------------

def test_an_item_of_exactly_100_is_refunded_instantly():
    facts = make_facts(
        reason="quality_defect", item_paid_amount=Decimal("100.00"), evidence=frozenset({"photo"})
    )

    option = decided_by(decide(facts, TABLE), "refund_only")

    assert option.rule_name == "Instant small refund"
    assert option.auto_execute is True
    assert option.refund_amount == Decimal("100.00")


def test_an_item_of_100_01_is_not_refunded_instantly_and_the_trace_says_why():
    facts = make_facts(
        reason="quality_defect", item_paid_amount=Decimal("100.01"), evidence=frozenset({"photo"})
    )

    decision = decide(facts, TABLE)

    assert decision.option("refund_only") is None
    entry = entry_for(decision, "Instant small refund")
    assert entry.outcome == "not_matched"
    assert rendered(entry.reasons) == ["Item amount 100.01 is above 100.00"]


# --- caps --------------------------------------------------------------------------------------

def test_the_platform_cap_beats_the_late_shipment_minimum_on_a_ten_yuan_order():
    facts = make_facts(
        reason="late_shipment", order_paid_amount=Decimal("10.00"),
        item_paid_amount=Decimal("10.00"),
    )

    option = decided_by(decide(facts, TABLE), "compensation_coupon")

    assert option.compensation_amount == Decimal("3.00")
    explanation = rendered(option.explanation)
    assert "Compensation 10 % of the order's 10.00 = 1.00" in explanation
    assert "The minimum of 5.00 raised the compensation from 1.00 to 5.00" in explanation
    assert (
        "The platform cap of 30 % of the order (3.00) lowered the compensation from 5.00 to 3.00"
        in explanation
    )


def test_the_late_shipment_cap_of_30_applies_before_the_platform_cap():
    facts = make_facts(reason="late_shipment", order_paid_amount=Decimal("1000.00"))

    option = decided_by(decide(facts, TABLE), "compensation_coupon")

    assert option.compensation_amount == Decimal("30.00")
    assert "The rule's cap of 30.00 lowered the compensation from 100.00 to 30.00" in rendered(
        option.explanation
    )


def test_the_statutory_triple_compensation_exceeds_the_platform_cap_and_needs_risk_legal():
    facts = make_facts(
        reason="counterfeit", order_paid_amount=Decimal("100.00"),
        item_paid_amount=Decimal("100.00"), evidence=frozenset({"inspection_report"}),
        claims_statutory=True,
    )

    option = decided_by(decide(facts, TABLE), "compensation_cash")

    assert option.rule_name == "Counterfeit confirmed: statutory triple compensation"
    assert option.compensation_amount == Decimal("500.00")  # 3 × 100 = 300, minimum 500
    assert option.compensation_amount > money(PLATFORM_CAP_PERCENT)  # 30 % of 100
    assert option.verdict == "needs_approval"
    assert option.approval_role == "risk_legal"
    assert option.auto_execute is False
    assert "Statutory compensation is exempt from the platform cap of 30 % of the order" in (
        rendered(option.explanation)
    )


def test_a_statutory_row_needs_risk_legal_even_if_it_says_allow():
    rule = Rule(
        id=1, name="Food safety tenfold", version=3, kind="compensation_cash", priority=1,
        reasons=frozenset({"quality_defect"}), verdict="allow", auto_execute=True,
        compensation_percent=Decimal("1000"), compensation_min=Decimal("1000"), statutory=True,
    )

    option = decided_by(decide(make_facts(reason="quality_defect"), [rule]), "compensation_cash")

    assert option.verdict == "needs_approval"
    assert option.approval_role == "risk_legal"
    assert option.auto_execute is False
    assert option.compensation_amount == Decimal("3000.00")
    assert option.rule_version == 3


def test_the_minor_flaw_refund_stops_at_its_cap_of_200():
    facts = make_facts(
        reason="quality_defect", item_paid_amount=Decimal("2000.00"),
        order_paid_amount=Decimal("2000.00"), evidence=frozenset({"photo"}),
    )

    option = decided_by(decide(facts, TABLE), "partial_refund")

    assert option.refund_amount == Decimal("200.00")
    assert "The refund cap of 200.00 lowered the refund from 400.00 to 200.00" in rendered(
        option.explanation
    )


# --- exclusions remove only the no-reason right ---------------------------------------------

# (Perishables are the exception: spoiled goods are refunded without being sent back, see
# tests/policies/test_issue16_rules.py.)
@pytest.mark.parametrize("flag", [
    "custom_made", "digital", "periodical", "no_return_confirmed",
])
def test_an_excluded_item_with_a_quality_defect_still_gets_the_quality_return(flag):
    facts = make_facts(
        item_flags=frozenset({flag}), reason="quality_defect", evidence=frozenset({"photo"})
    )

    decision = decide(facts, TABLE)

    option = decided_by(decision, "return_refund")
    assert option.rule_name == "Quality defect within 72 h"
    assert option.verdict == "allow"
    assert option.freight_payer == "merchant"
    deny_entries = [
        entry for entry in decision.trace
        if entry.kind == "return_refund" and entry.priority < 20
    ]
    assert {entry.outcome for entry in deny_entries} == {"not_matched"}


def test_a_custom_made_no_reason_return_is_denied_with_the_reason_explained():
    decision = decide(make_facts(item_flags=frozenset({"custom_made"})), TABLE)

    option = decided_by(decision, "return_refund")

    assert option.verdict == "deny"
    assert option.refund_amount == ZERO
    assert option.payer == ""
    assert f"Source: {RULES_BY_NAME[option.rule_name].source}" in rendered(option.explanation)
    assert "消费者权益保护法 第二十五条" in RULES_BY_NAME[option.rule_name].source
    assert entry_for(decision, "No-reason return within 7 days").outcome == "not_reached"


# --- ordering, activity, the trace ------------------------------------------------------------

def two_rules(deny_priority: int, allow_priority: int) -> list[Rule]:
    common: dict[str, Any] = {"kind": "return_refund", "version": 1,
                              "reasons": frozenset({"no_reason"})}
    return [
        Rule(id=1, name="Allow", priority=allow_priority, verdict="allow",
             refund_rule="item_remaining", **common),
        Rule(id=2, name="Deny", priority=deny_priority, verdict="deny", **common),
    ]


@pytest.mark.parametrize(("deny_priority", "allow_priority", "winner", "skipped"), [
    pytest.param(1, 2, "Deny", "Allow", id="deny first"),
    pytest.param(2, 1, "Allow", "Deny", id="allow first"),
])
def test_the_first_matching_rule_of_a_kind_decides_and_the_rest_are_not_reached(
    deny_priority, allow_priority, winner, skipped
):
    decision = decide(make_facts(), two_rules(deny_priority, allow_priority))

    assert decided_by(decision, "return_refund").rule_name == winner
    assert [(entry.rule_name, entry.outcome) for entry in decision.trace] == [
        (winner, "matched"), (skipped, "not_reached"),
    ]


def test_equal_priorities_are_checked_by_rule_id():
    decision = decide(make_facts(), two_rules(deny_priority=1, allow_priority=1))

    assert decided_by(decision, "return_refund").rule_name == "Allow"


@pytest.mark.parametrize(("change", "reason"), [
    pytest.param({"active": False}, "The rule is switched off", id="switched off"),
    pytest.param({"effective_to": SIGNED}, "The rule stopped applying at 2026-06-01T22:30:00+08:00",
                 id="expired"),
    pytest.param({"effective_from": days_after_sign_off(30)},
                 "The rule takes effect at 2026-07-01T22:30:00+08:00", id="not yet"),
])
def test_an_inactive_or_expired_rule_is_skipped_and_traced_as_inactive(change, reason):
    rules = [
        replace(rule, **change) if rule.name == "Deny" else rule
        for rule in two_rules(deny_priority=1, allow_priority=2)
    ]

    decision = decide(make_facts(), rules)

    assert decided_by(decision, "return_refund").rule_name == "Allow"
    entry = entry_for(decision, "Deny")
    assert entry.outcome == "inactive"
    assert rendered(entry.reasons) == [reason]


def test_a_rule_applies_from_its_effective_start_up_to_but_not_at_its_end():
    rules = [
        replace(rule, effective_from=SIGNED, effective_to=days_after_sign_off(2))
        if rule.name == "Deny" else rule
        for rule in two_rules(deny_priority=1, allow_priority=2)
    ]

    assert decided_by(decide(make_facts(at=SIGNED), rules), "return_refund").rule_name == "Deny"
    assert decided_by(
        decide(make_facts(at=days_after_sign_off(2)), rules), "return_refund"
    ).rule_name == "Allow"


def test_the_trace_lists_every_rule_once_in_checking_order():
    decision = decide(make_facts(), TABLE)

    assert sorted(entry.rule_id for entry in decision.trace) == sorted(RULES_BY_ID)
    kinds_seen: list[str] = []
    for entry in decision.trace:
        if not kinds_seen or kinds_seen[-1] != entry.kind:
            assert entry.kind not in kinds_seen
            kinds_seen.append(entry.kind)
    for kind in kinds_seen:
        order = [(e.priority, e.rule_id) for e in decision.trace if e.kind == kind]
        assert order == sorted(order)
    assert [option.kind for option in decision.options] == [
        kind for kind in kinds_seen if decision.option(kind) is not None
    ]


def test_a_not_matched_rule_lists_every_failed_condition_with_expected_and_actual():
    facts = make_facts(reason="no_reason", item_paid_amount=Decimal("150.00"))

    entry = entry_for(decide(facts, TABLE), "Instant small refund")

    assert entry.outcome == "not_matched"
    assert sorted(rendered(entry.reasons)) == sorted([
        "Reason no_reason is not one of missing_item, not_as_described, quality_defect",
        "Evidence has none of photo, video (it has -)",
        "Item amount 150.00 is above 100.00",
    ])


def test_a_sign_off_window_does_not_match_an_order_still_in_transit():
    facts = make_facts(signed_at=None)

    decision = decide(facts, TABLE)

    assert facts.order_stage == OrderStage.IN_TRANSIT
    assert decision.option("return_refund") is None
    assert rendered(entry_for(decision, "No-reason return within 7 days").reasons) == [
        "Not signed for yet (order stage in_transit), so 'within 7 days after sign-off' "
        "cannot apply"
    ]
    assert rendered(entry_for(decision, "Quality defect within 72 h").reasons)[-1] == (
        "Not signed for yet (order stage in_transit), so 'within 72 hours after sign-off' "
        "cannot apply"
    )


@pytest.mark.parametrize(("paid", "shipped", "signed", "stage"), [
    pytest.param(False, False, False, "unpaid", id="unpaid"),
    pytest.param(True, False, False, "unshipped", id="unshipped"),
    pytest.param(True, True, False, "in_transit", id="in transit"),
    pytest.param(True, True, True, "signed", id="signed"),
])
def test_the_order_stage_follows_from_the_timestamps(paid, shipped, signed, stage):
    facts = make_facts(
        paid_at=SIGNED - timedelta(days=3) if paid else None,
        shipped_at=SIGNED - timedelta(days=2) if shipped else None,
        signed_at=SIGNED if signed else None,
    )

    assert facts.order_stage == stage


def test_a_timestamp_after_the_decision_has_not_happened_yet():
    facts = make_facts(at=SIGNED - timedelta(hours=1))

    assert facts.order_stage == OrderStage.IN_TRANSIT
    assert facts.days_since_sign_off is None
    assert facts.hours_since_sign_off is None


# --- money -------------------------------------------------------------------------------------

def test_an_earlier_refund_on_the_item_reduces_the_refund():
    facts = make_facts(already_refunded=Decimal("100.00"))

    option = decided_by(decide(facts, TABLE), "return_refund")

    assert option.refund_amount == Decimal("200.00")
    assert "Refund 200.00: the item's 300.00 minus 100.00 already refunded" in rendered(
        option.explanation
    )


def test_a_percentage_refund_never_exceeds_what_is_left_of_the_item():
    facts = make_facts(
        reason="quality_defect", evidence=frozenset({"photo"}), already_refunded=Decimal("280.00")
    )

    option = decided_by(decide(facts, TABLE), "partial_refund")

    assert option.refund_amount == Decimal("20.00")
    assert (
        "Only 20.00 of the item is left to refund, which lowered the refund from 60.00 to 20.00"
        in rendered(option.explanation)
    )


def test_an_item_refunded_in_full_gets_nothing_more():
    facts = make_facts(already_refunded=Decimal("300.00"))

    decision = decide(facts, TABLE)

    assert decision.option("return_refund") is None
    assert rendered(entry_for(decision, "No-reason return within 7 days").reasons) == [
        "Nothing is left to refund: the item's 300.00 has been refunded (300.00)"
    ]


def test_amounts_are_rounded_half_up_to_the_cent():
    facts = make_facts(
        reason="quality_defect", evidence=frozenset({"photo"}), item_paid_amount=Decimal("0.125")
    )

    assert decided_by(decide(facts, TABLE), "partial_refund").refund_amount == Decimal("0.03")


def test_the_platform_cap_is_a_parameter():
    facts = make_facts(reason="late_shipment", order_paid_amount=Decimal("10.00"))

    option = decided_by(
        decide(facts, TABLE, platform_cap_percent=Decimal("20")), "compensation_coupon"
    )

    assert option.compensation_amount == Decimal("2.00")


# --- remembering must never leak one request's values into another ----------------------------

def test_decisions_that_differ_only_in_hours_and_amounts_quote_their_own_values():
    first = make_facts(
        reason="quality_defect", at=hours_after_sign_off(80), item_paid_amount=Decimal("150.00")
    )
    second = replace(first, at=hours_after_sign_off(90), item_paid_amount=Decimal("160.00"))

    for _ in range(3):  # the second and third rounds come from the memos
        decision_1, decision_2 = decide(first, TABLE), decide(second, TABLE)

    reasons_1 = rendered(entry_for(decision_1, "Instant small refund").reasons)
    reasons_2 = rendered(entry_for(decision_2, "Instant small refund").reasons)
    assert "80.00 hours since sign-off, more than 72" in reasons_1
    assert "Item amount 150.00 is above 100.00" in reasons_1
    assert "90.00 hours since sign-off, more than 72" in reasons_2
    assert "Item amount 160.00 is above 100.00" in reasons_2
    assert decided_by(decision_1, "return_refund").refund_amount == Decimal("150.00")
    assert decided_by(decision_2, "return_refund").refund_amount == Decimal("160.00")


def test_a_plain_list_of_rules_decides_like_the_compiled_table():
    facts = make_facts(reason="quality_defect", evidence=frozenset({"photo"}))

    assert decide(facts, list(RULES)) == decide(facts, TABLE)


def test_the_same_facts_decided_twice_give_equal_decisions():
    facts = make_facts(reason="logistics_damage", evidence=frozenset({"photo"}))

    assert decide(facts, TABLE) == decide(replace(facts), TABLE)


def test_a_decision_is_plain_data_that_can_be_stored_as_json():
    decision = decide(make_facts(reason="quality_defect", at=hours_after_sign_off(100)), TABLE)

    stored = json.loads(json.dumps(asdict(decision), default=str))

    not_matched = [entry for entry in decision.trace if entry.outcome == "not_matched"]
    assert not_matched
    for entry in not_matched:
        assert entry == TraceEntry(
            entry.rule_id, entry.rule_name, entry.kind, entry.priority, entry.outcome,
            entry.reasons, entry.hints, entry.verdict, entry.rule_name_zh,
        )
    assert len(stored["trace"]) == len(RULES)
    assert set(stored["trace"][0]) == {
        "rule_id", "rule_name", "kind", "priority", "outcome", "reasons", "hints", "verdict",
        "rule_name_zh",
    }
    # The rule's plain words first, for everyone; then its number and version, for reviewers.
    assert stored["options"][0]["explanation"][0]["key"] == PLAIN_KEY
    assert stored["options"][0]["explanation"][1]["key"].startswith("Decided by rule")
    assert stored["options"][0]["explanation"][1]["audience"] == REVIEWERS


# --- messages ----------------------------------------------------------------------------------

def test_every_message_is_a_format_string_filled_by_plain_values():
    facts = make_facts(
        reason="counterfeit", signed_at=None, evidence=frozenset({"photo", "inspection_report"})
    )
    decision = decide(facts, TABLE)

    messages = [m for entry in decision.trace for m in entry.reasons]
    messages += [m for option in decision.options for m in option.explanation]
    assert messages
    for message in messages:
        assert "{" not in message.key
        assert all(isinstance(value, str | int) for value in message.params.values())
        message.render()


# --- rejected input ----------------------------------------------------------------------------

@pytest.mark.parametrize(("change", "problem"), [
    pytest.param({"verdict": "maybe"}, "unknown verdict", id="verdict"),
    pytest.param({"verdict": "needs_approval"}, "needs an approval_role", id="approval role"),
    pytest.param({"refund_rule": "percent_of_item"}, "needs refund_percent", id="percent"),
    pytest.param({"order_stages": frozenset({"lost"})}, "unknown order stages", id="stage"),
    pytest.param({"warranty": "forever"}, "unknown warranty", id="warranty"),
])
def test_a_rule_that_cannot_be_decided_with_is_rejected_when_compiled(change, problem):
    rule = replace(two_rules(1, 2)[0], **change)

    with pytest.raises(ValueError, match=problem):
        compile_rules([rule])


def test_two_rules_with_one_id_are_rejected():
    with pytest.raises(ValueError, match="appears twice"):
        compile_rules([two_rules(1, 2)[0], two_rules(1, 2)[0]])


def test_a_decision_needs_an_aware_moment():
    naive = datetime(2026, 6, 3, 12, 0)  # noqa: DTZ001 - the point of the test

    with pytest.raises(ValueError, match="time-zone aware"):
        decide(make_facts(at=naive), TABLE)


# --- properties --------------------------------------------------------------------------------

amounts = st.decimals(min_value=0, max_value=100_000, places=2, allow_nan=False)
REASONS = ["no_reason", "quality_defect", "not_as_described", "logistics_damage", "wrong_item",
           "missing_item", "late_shipment", "counterfeit", "delivery_timeout", "other"]
FLAGS = ["custom_made", "perishable", "digital", "periodical", "hygiene_sealed",
         "no_return_confirmed", "sanbao", "freight_insured"]
EVIDENCE = ["photo", "video", "screenshot", "inspection_report", "logistics_proof", "chat_record"]


@st.composite
def any_facts(draw: st.DrawFn) -> Facts:
    item_paid = draw(amounts)
    signed = draw(st.booleans())
    return make_facts(
        at=SIGNED + timedelta(minutes=draw(st.integers(0, 60 * 24 * 500))),
        signed_at=SIGNED if signed else None,
        shipped_at=SIGNED - timedelta(days=1) if signed or draw(st.booleans()) else None,
        order_paid_amount=item_paid + draw(amounts),
        item_paid_amount=item_paid,
        already_refunded=draw(st.one_of(st.just(Decimal(0)), amounts)),
        reason=draw(st.sampled_from(REASONS)),
        item_flags=frozenset(draw(st.sets(st.sampled_from(FLAGS)))),
        item_condition=draw(st.sampled_from(["intact", "opened", "used", "damaged", ""])),
        evidence=frozenset(draw(st.sets(st.sampled_from(EVIDENCE)))),
        customer_tier=draw(st.sampled_from(["normal", "vip", "svip"])),
        warranty_days=draw(st.sampled_from([None, 0, 15, 365])),
        refunds_90d=draw(st.integers(0, 8)),
        disputes_90d=draw(st.integers(0, 3)),
        merchant_silent_hours=Decimal(draw(st.integers(0, 96))),
    )


def assert_money_is_sound(facts: Facts, option: Option, rule: Rule) -> None:
    for amount in (option.refund_amount, option.compensation_amount, option.coupon_amount):
        assert amount >= 0
        assert amount.as_tuple().exponent == -2
    assert option.points >= 0
    assert option.refund_amount <= max(facts.item_paid_amount - facts.already_refunded, 0)
    if not rule.statutory:
        assert option.compensation_amount <= money(
            PLATFORM_CAP_PERCENT * facts.order_paid_amount / 100
        )


@settings(max_examples=300, deadline=None)
@given(facts=any_facts())
def test_no_default_option_is_negative_over_refunds_or_breaks_the_platform_cap(facts):
    decision = decide(facts, TABLE)

    assert len(decision.trace) == len(RULES)
    assert len({option.kind for option in decision.options}) == len(decision.options)
    for option in decision.options:
        assert_money_is_sound(facts, option, RULES_BY_ID[option.rule_id])


money_parameters = st.one_of(st.none(), st.decimals(min_value=-50, max_value=2000, places=2))


@settings(max_examples=300, deadline=None)
@given(
    facts=any_facts(),
    refund_percent=st.decimals(min_value=-50, max_value=500, places=2),
    refund_cap=money_parameters,
    compensation_percent=money_parameters,
    compensation_min=money_parameters,
    compensation_cap=money_parameters,
    coupon=money_parameters,
    points=st.one_of(st.none(), st.integers(-100, 10_000)),
    refund_rule=st.sampled_from(["none", "item_remaining", "percent_of_item"]),
    statutory=st.booleans(),
)
def test_no_rule_can_give_negative_money_over_refund_or_break_the_cap_unless_statutory(
    facts, refund_percent, refund_cap, compensation_percent, compensation_min,
    compensation_cap, coupon, points, refund_rule, statutory,
):
    rule = Rule(
        id=1, name="Any", version=1, kind="compensation_cash", priority=1,
        verdict="needs_approval", approval_role="supervisor", refund_rule=refund_rule,
        refund_percent=refund_percent, refund_cap=refund_cap,
        compensation_percent=compensation_percent, compensation_min=compensation_min,
        compensation_cap=compensation_cap, coupon_amount=coupon, points=points,
        statutory=statutory,
    )

    decision = decide(facts, [rule])

    if refund_rule != "none" and facts.remaining_refundable == ZERO:
        assert decision.option("compensation_cash") is None  # nothing left to refund
        return
    if decision.option("compensation_cash") is None:  # nothing to give: not offered
        (entry,) = decision.trace
        assert [reason.key for reason in entry.reasons] == [
            "The rule would give nothing here (no money, goods, repair, coupon or points), so "
            "it is not offered"]
        return
    assert_money_is_sound(facts, decided_by(decision, "compensation_cash"), rule)
    assert gives_something(decided_by(decision, "compensation_cash"))
