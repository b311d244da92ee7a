"""A proposal of an option with nothing to give is refused by the service (issue 17, point 2)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from policies.models import PolicyRule
from resolutions import services as resolution_services
from resolutions.models import Resolution
from tests.factories import OrderFactory, OrderItemFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def compensation_rule(db) -> PolicyRule:
    """The only rule: 10 % of the order in cash, nothing else."""
    PolicyRule.objects.all().delete()
    return PolicyRule.objects.create(
        name="Cash", kind="compensation_cash", priority=1, verdict="allow", source="test",
        compensation_percent=Decimal("10"))


def test_an_option_worth_nothing_is_refused_when_proposed(settings, agent, team,
                                                          compensation_rule):
    # The platform cap, a setting and no fact, brings the compensation down to 0.00.
    settings.POLICY_PLATFORM_CAP_PERCENT = 0
    order = OrderFactory(paid_amount=Decimal("300.00"))
    item = OrderItemFactory(order=order, paid_amount=Decimal("300.00"))
    ticket = TicketFactory(team=team, assignee=agent, state="in_progress", order=order,
                           order_item=item, customer=order.customer,
                           request_reason="quality_defect")

    with pytest.raises(ValidationError) as refused:
        resolution_services.resolution_propose(ticket=ticket, actor=agent,
                                               kind="compensation_cash")

    assert "gives the customer nothing" in str(refused.value)
    assert not Resolution.objects.filter(ticket=ticket).exists()

    settings.POLICY_PLATFORM_CAP_PERCENT = 30
    resolution = resolution_services.resolution_propose(ticket=ticket, actor=agent,
                                                        kind="compensation_cash")
    assert resolution.compensation_amount == Decimal("30.00")
