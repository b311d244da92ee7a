import pytest


@pytest.fixture(autouse=True)
def _english_messages(english_messages):
    """These tests read error messages, so they ask for English ones."""


@pytest.fixture
def staffed_teams(db):
    """Every team with one available agent who has its skill, so no team is one nobody
    works in (routing would send its tickets to the default team)."""
    from django.contrib.auth.models import Group

    from core.models.roles import Role
    from routing.models import AgentProfile
    from tests.factories import UserFactory
    from tickets.models import Team

    agents = {}
    for team in Team.objects.all():
        user = UserFactory(username=f"staff_{team.code}")
        user.groups.add(Group.objects.get(name=Role.AGENT))
        team.members.add(user)
        AgentProfile.objects.create(user=user, skills=list(SKILLS_OF.get(team.code, [])))
        agents[team.code] = user
    return agents


SKILLS_OF = {"after_sales": ["after_sales"], "logistics": ["logistics"], "payment": ["payment"],
             "quality": ["quality"], "complaints": ["complaints"], "vip_desk": ["vip"],
             "risk_legal": ["risk"]}
