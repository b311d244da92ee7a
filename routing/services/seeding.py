"""Default routing rules by what the request says it is: its request reason and its category.

Installed by a data migration (routing 0003), with history rows, next to the keyword rules
of tickets/services/seeding.py. A rule matched by the request's reason or category decides
before a rule matched only by words in the text (routing.services.assignment.classify), so
the reason the agent picks on the phone, or the category a channel sends, is what routes the
ticket; keywords still raise the priority. The reasoning is in docs/ROUTING_SLA.md.
"""

from django.db.migrations.state import StateApps
from django.utils import timezone

from core.services.audit import initial_history_row

REASON = "default table"

# Each after-sales reason goes to the team that handles it [004]: safety and quality disputes
# need the quality team's evidence review, lost or stalled parcels the logistics team, a
# refund stuck with the payment channel the payment team; every other reason is an ordinary
# return or refund request for the after-sales team.
REQUEST_REASON_RULES = [
    {"name": "售后原因：安全隐患 → 质量组 P0", "order": 1,
     "request_reasons": ["safety_hazard", "food_safety"], "set_category": "safety_hazard",
     "team": "quality", "required_skill": "quality", "raise_priority_to": 0},
    {"name": "售后原因：质量问题 → 质量组", "order": 2, "request_reasons": ["quality_defect"],
     "set_category": "quality_malfunction", "team": "quality", "required_skill": "quality"},
    {"name": "售后原因：假冒伪劣 → 质量组", "order": 3, "request_reasons": ["counterfeit"],
     "set_category": "counterfeit", "team": "quality", "required_skill": "quality"},
    {"name": "售后原因：物流异常 → 物流组 P1", "order": 4,
     "request_reasons": ["logistics_damage", "delivery_timeout", "parcel_lost"],
     "set_category": "logistics_exception", "team": "logistics",
     "required_skill": "logistics", "raise_priority_to": 1},
    {"name": "售后原因：退款未到账 → 支付退款组 P1", "order": 5,
     "request_reasons": ["refund_delayed"], "set_category": "refund_not_arrived",
     "team": "payment", "required_skill": "payment", "raise_priority_to": 1},
    {"name": "售后原因：错发漏发 → 售后组", "order": 6,
     "request_reasons": ["wrong_item", "missing_item"], "set_category": "wrong_or_missing_item",
     "team": "after_sales", "required_skill": "after_sales"},
    {"name": "售后原因：退换货 → 售后组", "order": 7,
     "request_reasons": ["no_reason", "not_as_described", "late_shipment", "refused_at_door",
                         "out_of_stock", "false_advertising", "other"],
     "set_category": "return_exchange", "team": "after_sales", "required_skill": "after_sales"},
]

# A category chosen by the agent or sent by the channel goes to its team, whatever words the
# text holds (the safety hazard category has its own rule, 11, in the keyword table).
CATEGORY_RULES = [
    {"name": "类目：物流 → 物流组", "order": 12,
     "categories": ["order_not_received", "order_late", "logistics_exception"],
     "team": "logistics", "required_skill": "logistics"},
    {"name": "类目：支付退款 → 支付退款组", "order": 13,
     "categories": ["payment_failed", "double_charge", "refund_not_arrived"],
     "team": "payment", "required_skill": "payment"},
    {"name": "类目：商品质量 → 质量组", "order": 14,
     "categories": ["quality_damage", "quality_malfunction", "counterfeit"],
     "team": "quality", "required_skill": "quality"},
    {"name": "类目：售后申请 → 售后组", "order": 16,
     "categories": ["return_exchange", "wrong_or_missing_item", "coupon", "account_login",
                    "service_attitude"],
     "team": "after_sales", "required_skill": "after_sales"},
]

DEFAULT_RULES = [*REQUEST_REASON_RULES, *CATEGORY_RULES]


def install_request_rules(apps: StateApps) -> int:
    """Create the rules above that are missing (teams that are missing are left out);
    return how many were created."""
    routing_rule = apps.get_model("routing", "RoutingRule")
    historical_rule = apps.get_model("routing", "HistoricalRoutingRule")
    team_model = apps.get_model("tickets", "Team")
    now = timezone.now()
    created = 0
    for row in DEFAULT_RULES:
        values = dict(row)
        team = team_model.objects.filter(code=values.pop("team")).first()
        if team is None or routing_rule.objects.filter(name=values["name"]).exists():
            continue
        rule = routing_rule.objects.create(**values, team=team)
        initial_history_row(historical_rule, rule, when=now, reason=REASON).save()
        created += 1
    return created


def remove_request_rules(apps: StateApps) -> None:
    routing_rule = apps.get_model("routing", "RoutingRule")
    routing_rule.objects.filter(name__in=[row["name"] for row in DEFAULT_RULES]).delete()
