"""Demo teams and one log-in per role."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from cs_console.roles import STAFF_ROLES, Role
from tickets.models import Team

TEAMS = [
    ("after_sales", "售后组", "退货、换货、退款等售后申请"),
    ("logistics", "物流组", "配送延迟、滞留、丢件、破损等物流问题"),
    ("payment", "支付退款组", "支付失败、重复扣款、退款未到账，与财务协同核实"),
    ("quality", "质量组", "商品破损、功能故障、假冒伪劣、安全隐患"),
    ("complaints", "投诉处理组", "二级投诉：多次投诉未解决、赔偿争议"),
    ("vip_desk", "VIP专席", "VIP 与行业客户的专属客户经理"),
    ("risk_legal", "风控法务组", "三级投诉、恶意或高频退款、法律风险"),
]

# username, role, first name, last name, teams. The password is "<username>-demo".
USERS = [
    ("agent", Role.AGENT, "小美", "王", ["after_sales", "logistics"]),
    ("senior_agent", Role.SENIOR_AGENT, "建国", "李", ["after_sales", "quality"]),
    ("complaint_specialist", Role.COMPLAINT_SPECIALIST, "静", "张", ["complaints"]),
    ("supervisor", Role.SUPERVISOR, "强", "刘", ["after_sales", "complaints", "vip_desk"]),
    ("qa", Role.QA, "丽", "陈", []),
    ("risk_legal", Role.RISK_LEGAL, "伟", "赵", ["risk_legal"]),
]


def demo_password(username: str) -> str:
    return f"{username}-demo"


@transaction.atomic
def load_people() -> dict[str, int]:
    """Create the demo teams and users if missing; return how many of each were created."""
    created = {"teams": 0, "users": 0}
    teams = {}
    for code, name, description in TEAMS:
        team, was_created = Team.objects.get_or_create(
            code=code, defaults={"name": name, "description": description}
        )
        teams[code] = team
        created["teams"] += was_created

    user_model = get_user_model()
    for username, role, first_name, last_name, team_codes in USERS:
        user, was_created = user_model.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first_name,
                "last_name": last_name,
                "email": f"{username}@demo.cs-console.invalid",
                "is_staff": role in STAFF_ROLES,
            },
        )
        if was_created:
            user.set_password(demo_password(username))
            user.save(update_fields=["password"])
            user.groups.add(Group.objects.get(name=role))
            for code in team_codes:
                teams[code].members.add(user)
        created["users"] += was_created
    return created


def demo_logins() -> list[tuple[str, str, str]]:
    """Return (role label, username, password) for every demo user."""
    return [(str(role.label), username, demo_password(username)) for username, role, *_ in USERS]
