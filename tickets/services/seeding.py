"""Default SLA policies and routing rules, installed by a data migration (with history rows).

The numbers are the source material's time limits (DOMAIN.md, "Time limits") for standard
P2 work, tightened for P0/P1 and combined with the complaint levels' deadlines; the
reasoning is in docs/ROUTING_SLA.md. Supervisors change them in Django admin.
"""

from django.db.migrations.state import StateApps
from django.utils import timezone

from core.services.audit import initial_history_row

REASON = "default table"
HOUR = 60

# The teams the routing rules and escalations send work to [004][001].
DEFAULT_TEAMS = [
    ("after_sales", "售后组", "退货、换货、退款等售后申请"),
    ("logistics", "物流组", "配送延迟、滞留、丢件、破损等物流问题"),
    ("payment", "支付退款组", "支付失败、重复扣款、退款未到账，与财务协同核实"),
    ("quality", "质量组", "商品破损、功能故障、假冒伪劣、安全隐患"),
    ("complaints", "投诉处理组", "二级投诉：多次投诉未解决、赔偿争议"),
    ("vip_desk", "VIP专席", "VIP 与行业客户的专属客户经理"),
    ("risk_legal", "风控法务组", "三级投诉、恶意或高频退款、法律风险"),
]

# priority: (first response, resolution, customer update, raise the priority after) in minutes
BY_PRIORITY = {
    0: (15, 4 * HOUR, 2 * HOUR, 12 * HOUR),   # safety hazard, public opinion, legal threat
    1: (30, 24 * HOUR, 4 * HOUR, 24 * HOUR),  # logistics exception, payment, VIP, complaint call
    2: (2 * HOUR, 48 * HOUR, 8 * HOUR, 48 * HOUR),  # the seed's numbers: 2 h, 8 h, 48 h
    # questions, low urgency: a longer deadline, but seed 004's 2 h first response holds
    # for every ticket (issue 16)
    3: (2 * HOUR, 72 * HOUR, 8 * HOUR, 48 * HOUR),
}
# complaint level: (first contact, deadline) in minutes [001]
BY_LEVEL = {
    "l1": (2 * HOUR, 24 * HOUR),       # closed within 24 h
    "l2": (2 * HOUR, 48 * HOUR),       # written reply within 48 h
    "l3": (1 * HOUR, 72 * HOUR),       # reported to management within 72 h
    "special": (1 * HOUR, 72 * HOUR),  # dedicated account manager; followed for 30 days
}


def default_sla_policies() -> list[dict]:
    rows = []
    for priority, (first, resolution, update, escalate) in BY_PRIORITY.items():
        rows.append({"priority": priority, "complaint_level": "none",
                     "first_response_minutes": first, "resolution_minutes": resolution,
                     "update_interval_minutes": update, "escalate_after_minutes": escalate,
                     "source": "DOMAIN.md Time limits [004][000]"})
        for level, (contact, deadline) in BY_LEVEL.items():
            rows.append({"priority": priority, "complaint_level": level,
                         "first_response_minutes": min(first, contact),
                         "resolution_minutes": min(resolution, deadline),
                         "update_interval_minutes": update, "escalate_after_minutes": escalate,
                         "source": "DOMAIN.md Complaint levels [001]"})
    return rows


DEFAULT_ROUTING_RULES = [
    {"name": "安全隐患 → 质量组 P0", "order": 10,
     "keywords": "冒烟,起火,着火,漏电,爆炸,烧焦,发烫,安全隐患,触电",
     "set_category": "safety_hazard", "team": "quality", "required_skill": "quality",
     "raise_priority_to": 0},
    {"name": "安全类目 → 质量组 P0", "order": 11, "categories": ["safety_hazard"],
     "team": "quality", "required_skill": "quality", "raise_priority_to": 0},
    {"name": "法律风险 → 风控法务 P0", "order": 15, "keywords": "律师,起诉,法院,12315,媒体,曝光",
     "team": "risk_legal", "required_skill": "risk", "raise_priority_to": 0},
    {"name": "物流异常 → 物流组 P1", "order": 20,
     "keywords": "物流,快递,滞留,丢件,没收到,未收到,配送,运单",
     "set_category": "logistics_exception", "team": "logistics", "required_skill": "logistics",
     "raise_priority_to": 1},
    {"name": "支付退款 → 支付退款组 P1", "order": 30,
     "keywords": "退款,扣款,支付,到账,重复扣费,付款失败",
     "set_category": "refund_not_arrived", "team": "payment", "required_skill": "payment",
     "raise_priority_to": 1},
    {"name": "质量问题 → 质量组", "order": 40,
     "keywords": "破损,坏了,故障,不能用,没有声音,假货,质量,瑕疵,烂",
     "set_category": "quality_malfunction", "team": "quality", "required_skill": "quality"},
    {"name": "退换货 → 售后组", "order": 50, "keywords": "退货,换货,七天无理由,尺码,不想要",
     "set_category": "return_exchange", "team": "after_sales", "required_skill": "after_sales"},
    {"name": "投诉来电插队 P1", "order": 60, "keywords": "投诉", "raise_priority_to": 1},
    {"name": "VIP 客户插队 P1", "order": 70, "customer_tiers": ["vip", "svip"],
     "raise_priority_to": 1},
]


def install_defaults(apps: StateApps) -> None:
    """Create the default teams, SLA policies and routing rules that are missing."""
    sla_policy = apps.get_model("tickets", "SlaPolicy")
    historical_sla = apps.get_model("tickets", "HistoricalSlaPolicy")
    routing_rule = apps.get_model("tickets", "RoutingRule")
    historical_rule = apps.get_model("tickets", "HistoricalRoutingRule")
    team_model = apps.get_model("tickets", "Team")
    historical_team = apps.get_model("tickets", "HistoricalTeam")
    now = timezone.now()
    for code, name, description in DEFAULT_TEAMS:
        team, created = team_model.objects.get_or_create(
            code=code, defaults={"name": name, "description": description})
        if created:
            initial_history_row(historical_team, team, when=now, reason=REASON).save()
    for row in default_sla_policies():
        policy, created = sla_policy.objects.get_or_create(
            priority=row["priority"], complaint_level=row["complaint_level"], defaults=row)
        if created:
            initial_history_row(historical_sla, policy, when=now, reason=REASON).save()
    for row in DEFAULT_ROUTING_RULES:
        values = dict(row)
        team_code = values.pop("team", None)
        if routing_rule.objects.filter(name=values["name"]).exists():
            continue
        values["team"] = team_model.objects.get(code=team_code) if team_code else None
        rule = routing_rule.objects.create(**values)
        initial_history_row(historical_rule, rule, when=now, reason=REASON).save()
