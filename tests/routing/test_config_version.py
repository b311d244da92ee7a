"""Every change to a table routing keeps in memory moves the configuration version.

Triggers move it (tickets migration 0022, routing 0004), whoever writes: the admin, a bulk
UPDATE, a data migration. A migration that rebuilds one of these tables on SQLite drops its
triggers; these tests then fail there.
"""

import pytest
from django.db.models import F

from routing.models import RoutingConfigVersion, RoutingRule
from sla.models import SlaPolicy
from tickets.models import Team

pytestmark = pytest.mark.django_db


def _version() -> int:
    return RoutingConfigVersion.objects.get(pk=1).version


@pytest.mark.parametrize("model", [RoutingRule, SlaPolicy, Team])
def test_an_update_moves_the_version(model):
    first = model.objects.order_by("pk").first()
    assert first is not None
    before = _version()

    model.objects.filter(pk=first.pk).update(id=F("id"))  # a plain UPDATE, no save()

    assert _version() != before


def test_adding_and_removing_a_rule_moves_the_version():
    before = _version()
    rule = RoutingRule.objects.create(name="测试规则", order=998, keywords="测试")
    added = _version()
    RoutingRule.objects.filter(pk=rule.pk).delete()

    assert before != added != _version()
