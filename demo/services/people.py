"""Demo teams and one log-in per role."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from core.models.roles import STAFF_ROLES, WORKING_ROLES, Role
from routing.models import AgentProfile
from tickets.models import Team
from tickets.services.seeding import DEFAULT_TEAMS as TEAMS

# username, role, first name, last name, teams. The password is "<username>-demo". Every team
# a routing rule names has a working member, so no demo ticket is routed to a team nobody
# works in (tests/routing/test_unstaffed_teams.py checks).
USERS = [
    ("agent", Role.AGENT, "小美", "王", ["after_sales", "logistics", "payment"]),
    ("senior_agent", Role.SENIOR_AGENT, "建国", "李", ["after_sales", "quality"]),
    ("complaint_specialist", Role.COMPLAINT_SPECIALIST, "静", "张", ["complaints"]),
    ("supervisor", Role.SUPERVISOR, "强", "刘", ["after_sales", "complaints", "vip_desk"]),
    ("qa", Role.QA, "丽", "陈", []),
    ("risk_legal", Role.RISK_LEGAL, "伟", "赵", ["risk_legal"]),
]


# The skill each team's work needs (see the routing rules).
TEAM_SKILLS = {"after_sales": "after_sales", "logistics": "logistics", "payment": "payment",
               "quality": "quality", "complaints": "complaints", "vip_desk": "vip",
               "risk_legal": "risk"}


def skills_for(team_codes: list[str]) -> list[str]:
    return sorted({TEAM_SKILLS[code] for code in team_codes})


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
        # Also on a demo database seeded before a user was given another team.
        for code in team_codes:
            teams[code].members.add(user)
        if role in WORKING_ROLES:
            profile, _new = AgentProfile.objects.get_or_create(
                user=user, defaults={"skills": skills_for(team_codes), "capacity": 20})
            missing = set(skills_for(team_codes)) - set(profile.skills)
            if missing:
                profile.skills = sorted({*profile.skills, *missing})
                profile.save(update_fields=["skills"])
        created["users"] += was_created
    return created


def demo_logins() -> list[tuple[str, str, str]]:
    """Return (role label, username, password) for every demo user."""
    return [(str(role.label), username, demo_password(username)) for username, role, *_ in USERS]
