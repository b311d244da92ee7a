"""The demo data routes nothing to a team nobody works in."""

import pytest

from core.models.roles import WORKING_ROLES
from demo.services.people import load_people
from routing.models import RoutingRule

pytestmark = pytest.mark.django_db


def test_every_team_a_rule_names_has_a_working_member_in_the_demo():
    load_people()

    for rule in RoutingRule.objects.filter(is_active=True, team__isnull=False):
        workers = rule.team.members.filter(is_active=True,
                                           groups__name__in=[str(r) for r in WORKING_ROLES])
        assert workers.exists(), rule.name
        skilled = [user for user in workers
                   if not rule.required_skill
                   or rule.required_skill in user.agent_profile.skills]
        assert skilled, rule.name
