"""Phone intake in the browser: the agent on a call keeps a ticket they may work, whatever
words the caller used; an agent outside the request's team is asked to hand it over, by the
team's name, and lands on a page that says where it went."""

import pytest
from django.apps import apps

from routing.models import AgentProfile, RoutingRule
from routing.services.seeding import install_request_rules
from tests.e2e.test_login_and_home import log_in
from tests.factories import OrderItemFactory, TeamFactory
from tickets.models import Ticket

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def routing_table(team, agent):
    """The shipped rules this call meets (a transactional test starts without them): "退款"
    sends a call to the payment team, a quality reason to the quality team, where `agent`
    works with the skill."""
    quality = TeamFactory(code="quality", name="质量组")
    payment = TeamFactory(code="payment", name="支付退款组")
    install_request_rules(apps)
    RoutingRule.objects.create(name="支付退款 → 支付退款组 P1", order=30, keywords="退款,到账",
                               set_category="refund_not_arrived", team=payment,
                               required_skill="payment", raise_priority_to=1)
    quality.members.add(agent)
    AgentProfile.objects.create(user=agent, skills=["after_sales", "quality"])
    return quality


def take_refund_call(page, live_server):
    item = OrderItemFactory(order__customer__name="赵女士", order__customer__phone="13900002468")
    page.click("[data-nav=new_ticket]")
    page.locator("#customer-search").press_sequentially("2468", delay=50)
    page.wait_for_selector("#customer-matches")
    page.check(f"#order-{item.order.pk}")
    page.select_option("#id_ticket_type", "after_sales")
    page.fill("#id_subject", "吹风机用了两天就坏了，要求退款")
    page.select_option("#id_request_reason", "quality_defect")
    page.select_option("#id_requested_resolution", "refund_only")
    page.click("[data-testid=create-ticket]")


def test_an_agent_who_works_the_category_lands_on_their_own_ticket(
        page, live_server, agent, routing_table, screenshot):
    log_in(page, live_server, agent.username)

    take_refund_call(page, live_server)

    page.wait_for_selector("#workspace")
    ticket = Ticket.objects.get()
    assert (ticket.team, ticket.assignee) == (routing_table, agent)
    assert ticket.number in page.inner_text("#workspace header")
    assert str(agent) in page.inner_text("[data-testid=assignee]")
    screenshot("phone-intake-kept-by-the-agent-zh-hans")
    assert page.js_errors == []


def test_an_agent_outside_the_category_is_asked_to_hand_it_over(
        page, live_server, other_agent, routing_table, screenshot):
    log_in(page, live_server, other_agent.username)

    take_refund_call(page, live_server)

    page.wait_for_selector("[data-testid=hand-over]")
    assert "质量组" in page.inner_text("[data-testid=hand-over]")
    assert not Ticket.objects.exists()  # nothing saved before the agent agrees
    screenshot("phone-intake-hand-over-zh-hans")

    page.click("[data-testid=hand-over-confirm]")

    page.wait_for_selector(".alert-success")
    ticket = Ticket.objects.get()
    assert ticket.team == routing_table
    assert ticket.number in page.inner_text(".alert-success")
    assert "质量组" in page.inner_text(".alert-success")
    assert "/tickets/new/" in page.url
    screenshot("phone-intake-handed-over-zh-hans")
    assert page.js_errors == []
