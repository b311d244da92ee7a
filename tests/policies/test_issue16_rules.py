"""Issue 16: the rules the audit found wrong or missing, each case citing its source.

Engine cases run on the default table without a database; the evaluate API cases and the
data migration's update need one.
"""

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps as django_apps
from django.utils import timezone

from policies.engine import Facts, compile_rules, decide
from policies.models import PolicyRule
from policies.services import facts as facts_service
from policies.services.defaults import DEFAULT_APPROVAL_LIMITS, default_rules
from policies.services.seeding import update_defaults

SHANGHAI = ZoneInfo("Asia/Shanghai")
TABLE = compile_rules(default_rules())
LIMITS = DEFAULT_APPROVAL_LIMITS


def local(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=SHANGHAI)


def case(**changes: Any) -> Facts:
    """A signed order of 300.00 built as the API and tickets build it (holiday calendar too)."""
    signed = changes.pop("signed_at", local(2026, 6, 3))
    delivered = signed or local(2026, 6, 3)  # shipped and paid before it, signed or not
    values: dict[str, Any] = {
        "at": delivered + timedelta(days=2), "order_paid_amount": Decimal("300.00"),
        "customer_tier": "normal", "paid_at": delivered - timedelta(days=3),
        "shipped_at": delivered - timedelta(days=2), "signed_at": signed,
        "item_category": "home", "item_paid_amount": Decimal("300.00"),
        "reason": "no_reason", "item_condition": "intact", "time_zone": "Asia/Shanghai",
    }
    return facts_service.build_facts(**(values | changes))


def option_rule(facts: Facts, kind: str) -> str | None:
    option = decide(facts, TABLE, approval_limits=LIMITS).option(kind)
    return None if option is None else option.rule_name


NO_REASON_OK = "No-reason return within 7 days"
NO_REASON_LATE = "No-reason window expired"


# --- 3a. A period whose last day is a rest day ends at the end of the next working day --------
# Source: 民法典 第二百零三条; 网络购买商品七日无理由退货暂行办法 (签收次日起计算七日); the
# calendar is chinese-calendar (sla.services.calendar.is_working_day), make-up days included.

@pytest.mark.parametrize(("signed", "at", "expected"), [
    pytest.param(local(2026, 6, 3), local(2026, 6, 10, 23), NO_REASON_OK,
                 id="day 7 a Wednesday, last hour of it"),
    pytest.param(local(2026, 6, 3), local(2026, 6, 11, 1), NO_REASON_LATE,
                 id="day 7 a Wednesday, the Thursday after is late"),
    pytest.param(local(2026, 6, 7), local(2026, 6, 15, 20), NO_REASON_OK,
                 id="day 7 a Sunday: Monday still counts"),
    pytest.param(local(2026, 6, 7), local(2026, 6, 16, 9), NO_REASON_LATE,
                 id="day 7 a Sunday: Tuesday is late"),
    pytest.param(local(2026, 6, 6), local(2026, 6, 15, 20), NO_REASON_OK,
                 id="day 7 a Saturday: over the weekend to Monday"),
    pytest.param(local(2026, 9, 27), local(2026, 10, 8, 20), NO_REASON_OK,
                 id="day 7 in the National Day holiday: to the first working day after it"),
    pytest.param(local(2026, 9, 27), local(2026, 10, 9, 9), NO_REASON_LATE,
                 id="National Day holiday: the day after the first working day is late"),
    pytest.param(local(2026, 10, 3), local(2026, 10, 11, 9), NO_REASON_LATE,
                 id="day 7 a make-up working Saturday: no extension"),
])
def test_the_no_reason_window_moves_past_rest_days(signed, at, expected):
    facts = case(signed_at=signed, at=at)

    assert option_rule(facts, "return_refund") == expected


def test_the_trace_says_why_a_late_looking_request_is_still_in_the_window():
    facts = case(signed_at=local(2026, 6, 7), at=local(2026, 6, 15, 20))

    decision = decide(facts, TABLE)

    (entry,) = [e for e in decision.trace if e.rule_name == NO_REASON_LATE]
    assert [reason.render() for reason in entry.reasons] == [
        "Day 7 after sign-off was a rest day, so the period runs to the end of the next "
        "working day, 2026-06-15 (Civil Code art. 203)"
    ]


# --- 3b. Quality claims after 72 h need an inspection report (seed 000) ------------------------
# Source: seed 000 (签收后72小时内反馈商品问题有效，超期需提供第三方检测证明).

@pytest.mark.parametrize(("hours", "evidence", "expected"), [
    pytest.param(48, {"photo"}, "Minor flaw, customer keeps the item", id="48 h, photo"),
    pytest.param(73, {"photo"}, None, id="73 h, photo only: no partial refund"),
    pytest.param(100, {"video"}, None, id="100 h, video only: no partial refund"),
    pytest.param(100, {"inspection_report"},
                 "Minor flaw with inspection report, customer keeps the item",
                 id="100 h, inspection report"),
    pytest.param(24 * 9, {"inspection_report"}, None, id="past 7 days: none"),
])
def test_the_minor_flaw_partial_refund_follows_the_72_hour_rule(hours, evidence, expected):
    signed = local(2026, 6, 3)
    facts = case(signed_at=signed, at=signed + timedelta(hours=hours), reason="quality_defect",
                 evidence=evidence)

    assert option_rule(facts, "partial_refund") == expected


# --- 3c. Statutory multiples are of the goods concerned (CRPL art. 55, Food Safety art. 148) ---

@pytest.mark.parametrize(("reason", "category", "item", "order", "evidence", "expected"), [
    pytest.param("counterfeit", "home", "200.00", "1000.00", {"inspection_report"}, "600.00",
                 id="CRPL 55: 3 x 200 item in a 1000 order"),
    pytest.param("counterfeit", "home", "100.00", "1000.00", {"inspection_report"}, "500.00",
                 id="CRPL 55: minimum 500"),
    pytest.param("false_advertising", "home", "400.00", "900.00", {"screenshot"}, "1200.00",
                 id="CRPL 55: false advertising, 3 x 400"),
    pytest.param("food_safety", "food_packaged", "50.00", "300.00", {"inspection_report"},
                 "1000.00", id="Food Safety Law 148: minimum 1000"),
    pytest.param("food_safety", "food_fresh", "150.00", "300.00", {"inspection_report"},
                 "1500.00", id="Food Safety Law 148: 10 x 150"),
])
def test_statutory_compensation_is_a_multiple_of_the_item_price(
        reason, category, item, order, evidence, expected):
    facts = case(reason=reason, item_category=category, item_paid_amount=Decimal(item),
                 order_paid_amount=Decimal(order), evidence=evidence, claims_statutory=True)

    option = decide(facts, TABLE, approval_limits=LIMITS).option("compensation_cash")

    assert option is not None
    assert option.compensation_amount == Decimal(expected)
    assert (option.verdict, option.approval_role) == ("needs_approval", "risk_legal")


# --- 4. The statutory claim is a fact of its own, not only the inspection report ---------------
# Source: CRPL art. 55 (the consumer's claim); DOMAIN.md [000][004] (compensation up to 30 %).

@pytest.mark.parametrize(("claims", "evidence", "expected"), [
    pytest.param(True, {"inspection_report"},
                 "Counterfeit confirmed: statutory triple compensation", id="claimed, appraised"),
    pytest.param(False, {"inspection_report"},
                 "Counterfeit claim awaiting appraisal: compensation", id="appraised, not claimed"),
    pytest.param(True, {"photo"}, "Counterfeit claim awaiting appraisal: compensation",
                 id="claimed, not appraised"),
    pytest.param(False, {"photo"}, "Counterfeit claim awaiting appraisal: compensation",
                 id="neither"),
])
def test_the_statutory_row_needs_the_claim_and_the_appraisal(claims, evidence, expected):
    facts = case(reason="counterfeit", evidence=evidence, claims_statutory=claims)

    assert option_rule(facts, "compensation_cash") == expected


# --- 3d. The approving role follows the amount (ApprovalLimit, research §6.3) -------------------

@pytest.mark.parametrize(("amount", "approver"), [
    pytest.param("2000.00", "senior_agent", id="within the senior agent's 2,000"),
    pytest.param("2000.01", "complaint_specialist", id="above 2,000"),
    pytest.param("5000.00", "complaint_specialist", id="the issue's 5,000"),
    pytest.param("5000.01", "supervisor", id="above 5,000"),
    pytest.param("25000.00", "risk_legal", id="above every limit but risk/legal's"),
])
def test_the_approving_role_is_the_first_whose_limit_covers_the_amount(amount, approver):
    signed = local(2026, 6, 3)
    facts = case(signed_at=signed, at=signed + timedelta(days=5), reason="quality_defect",
                 evidence={"photo"}, item_paid_amount=Decimal(amount),
                 order_paid_amount=Decimal(amount))

    option = decide(facts, TABLE, approval_limits=LIMITS).option("return_refund")

    assert option is not None
    assert option.rule_name == "Late quality claim without inspection report"
    assert option.refund_amount == Decimal(amount)
    assert option.approval_role == approver


def test_a_role_without_a_limit_row_approves_nothing_and_the_option_goes_up():
    limits = {"senior_agent": None} | {"complaint_specialist": Decimal("1")}
    signed = local(2026, 6, 3)
    facts = case(signed_at=signed, at=signed + timedelta(days=5), reason="quality_defect",
                 evidence={"photo"})

    assert decide(facts, TABLE, approval_limits=limits).option(
        "return_refund").approval_role == "senior_agent"
    assert decide(facts, TABLE, approval_limits={}).option(
        "return_refund").approval_role == "risk_legal"


# --- 3g. Sign-off unknown: the quality route that needs no window is still offered -------------
# Source: CRPL art. 24; DOMAIN.md [000] (without the time the 72 h rule cannot be checked).

@pytest.mark.parametrize(("reason", "evidence", "kind", "expected"), [
    pytest.param("quality_defect", {"photo"}, "return_refund",
                 "Quality defect, sign-off time unknown: return after review", id="quality"),
    pytest.param("quality_defect", set(), "return_refund", None, id="no evidence: none"),
    pytest.param("counterfeit", {"photo"}, "compensation_cash",
                 "Counterfeit claim awaiting appraisal: compensation", id="counterfeit"),
    pytest.param("safety_hazard", set(), "recall", "Safety hazard: recall", id="safety"),
])
def test_with_the_sign_off_time_unknown_the_window_free_routes_remain(
        reason, evidence, kind, expected):
    facts = case(signed_at=None, at=local(2026, 6, 10), reason=reason, evidence=evidence)

    assert option_rule(facts, kind) == expected


# --- 3h. Nothing to refund, nothing to send back ----------------------------------------------
# Sources: the refund is the item paid minus refunded (ledger); CRPL art. 24 and DOMAIN.md [000]
# (鲜活易腐: spoiled perishables are refunded, not returned).

@pytest.mark.parametrize(("changes", "kind", "expected"), [
    pytest.param({"already_refunded": Decimal("300.00")}, "return_refund", None,
                 id="fully refunded: no return"),
    pytest.param({"already_refunded": Decimal("300.00"), "reason": "quality_defect",
                  "evidence": {"photo"}}, "partial_refund", None,
                 id="fully refunded: no partial refund"),
    pytest.param({"already_refunded": Decimal("299.99")}, "return_refund", NO_REASON_OK,
                 id="one cent left: return"),
    pytest.param({"item_flags": {"perishable"}, "item_category": "food_fresh",
                  "reason": "quality_defect", "evidence": {"photo"}}, "return_refund", None,
                 id="spoiled perishable: no return"),
    pytest.param({"item_flags": {"perishable"}, "item_category": "food_fresh",
                  "reason": "quality_defect", "evidence": {"photo"}}, "exchange", None,
                 id="spoiled perishable: no exchange"),
    pytest.param({"item_flags": {"perishable"}, "item_category": "food_fresh",
                  "reason": "logistics_damage", "evidence": {"photo"}}, "refund_only",
                 "Perishable arrived bad", id="spoiled perishable: refund only"),
])
def test_no_return_without_money_left_or_goods_worth_sending_back(changes, kind, expected):
    assert option_rule(case(**changes), kind) == expected


# --- 4. Lost parcels: the carrier is asked first (seed 004, 48 h) ------------------------------

@pytest.mark.parametrize(("evidence", "carrier_hours", "expected"), [
    pytest.param(set(), "0", None, id="carrier not asked"),
    pytest.param(set(), "47.99", None, id="carrier asked 47.99 h ago"),
    pytest.param(set(), "48", "Parcel lost, carrier silent 48 h: refund", id="48 h silent"),
    pytest.param({"logistics_proof"}, "1", "Parcel lost, carrier confirmed: refund",
                 id="carrier confirmed the loss"),
])
def test_a_lost_parcel_is_refunded_once_the_carrier_confirms_or_stays_silent(
        evidence, carrier_hours, expected):
    facts = case(signed_at=None, at=local(2026, 6, 10), reason="parcel_lost", evidence=evidence,
                 carrier_silent_hours=Decimal(carrier_hours))

    assert option_rule(facts, "refund_only") == expected
    assert option_rule(facts, "reissue") == (expected and expected.replace("refund", "reissue"))


def test_damage_is_valued_by_the_assessment_not_the_full_item():
    """Seed 000: 电子产品按损坏部件维修成本折价, with a third-party report."""
    signed = local(2026, 6, 3)
    facts = case(signed_at=signed, at=signed + timedelta(days=4), reason="logistics_damage",
                 item_category="electronics", evidence={"inspection_report"},
                 assessed_damage=Decimal("120.00"))

    option = decide(facts, TABLE).option("partial_refund")

    assert option is not None
    assert (option.refund_amount, option.payer) == (Decimal("120.00"), "carrier")
    assert option_rule(
        case(signed_at=signed, at=signed + timedelta(days=4), reason="logistics_damage",
             item_category="electronics", evidence={"inspection_report"}),
        "partial_refund") is None  # not assessed yet


# --- the evaluate API refuses cases that cannot be real --------------------------------------

API = "/api/v1/policies/evaluate/"


def api_case(**changes: Any) -> dict[str, Any]:
    now = timezone.now()
    body: dict[str, Any] = {
        "order": {"paid_amount": "199.00", "paid_at": (now - timedelta(days=4)).isoformat(),
                  "shipped_at": (now - timedelta(days=3)).isoformat(),
                  "signed_at": (now - timedelta(days=2)).isoformat()},
        "item": {"category": "home", "paid_amount": "199.00"},
        "reason": "no_reason", "item_condition": "intact",
    }
    for key, value in changes.items():
        if isinstance(value, dict):
            body[key] = body.get(key, {}) | value
        else:
            body[key] = value
    return body


@pytest.mark.parametrize(("changes", "field_path"), [
    pytest.param({"item": {"paid_amount": "500.00"}}, ("item", "paid_amount"),
                 id="item paid above the order"),
    pytest.param({"order": {"signed_at": (timezone.now() + timedelta(hours=3)).isoformat()}},
                 ("order", "signed_at"), id="sign-off in the future, at omitted"),
    pytest.param({"at": (timezone.now() + timedelta(days=30)).isoformat()}, ("at",),
                 id="at 30 days ahead"),
    pytest.param({"at": (timezone.now() - timedelta(days=3)).isoformat()}, ("order", "signed_at"),
                 id="sign-off after the given at"),
])
def test_the_evaluate_api_refuses_impossible_cases(api, supervisor, changes, field_path):
    api.force_authenticate(supervisor)

    response = api.post(API, api_case(**changes), format="json")

    assert response.status_code == 400, response.json()
    body = response.json()
    for key in field_path:
        body = body[key]
    assert body


def test_the_evaluate_api_allows_a_little_clock_skew_and_takes_the_new_facts(api, supervisor):
    api.force_authenticate(supervisor)
    body = api_case(at=(timezone.now() + timedelta(minutes=1)).isoformat(),
                    reason="counterfeit", evidence=["inspection_report"], claims_statutory=True,
                    order={"paid_amount": "1000.00"}, item={"paid_amount": "200.00"})

    response = api.post(API, body, format="json")

    assert response.status_code == 200, response.json()
    options = {option["kind"]: option for option in response.json()["options"]}
    assert Decimal(options["compensation_cash"]["compensation_amount"]) == Decimal("600.00")


def test_the_evaluate_api_names_the_approver_by_the_amount(api, supervisor):
    api.force_authenticate(supervisor)
    now = timezone.now()
    body = api_case(reason="quality_defect", evidence=["photo"],
                    order={"paid_amount": "5000.00",
                           "paid_at": (now - timedelta(days=8)).isoformat(),
                           "shipped_at": (now - timedelta(days=7)).isoformat(),
                           "signed_at": (now - timedelta(days=5)).isoformat()},
                    item={"paid_amount": "5000.00"})

    response = api.post(API, body, format="json")

    assert response.status_code == 200, response.json()
    options = {option["kind"]: option for option in response.json()["options"]}
    assert options["return_refund"]["approval_role"] == "complaint_specialist"


# --- the data migration brings an existing table up to date, once ----------------------------

@pytest.mark.django_db
def test_the_issue_16_update_restores_changed_rows_and_is_idempotent():
    rule = PolicyRule.objects.get(name="Minor flaw, customer keeps the item")
    rule.within_days, rule.within_hours = 7, None  # the row as it was before issue 16
    rule.save()
    before = rule.history.count()

    assert update_defaults(django_apps, reason="issue 16") == (0, 1)
    assert update_defaults(django_apps, reason="issue 16") == (0, 0)

    rule.refresh_from_db()
    assert (rule.within_days, rule.within_hours) == (None, 72)
    assert rule.history.count() == before + 1
    assert rule.history.first().history_change_reason == "issue 16"
