"""Decisions in plain language in the browser (issue 17, point 2).

An agent reads the fridge case's options panel in Chinese: first why nothing applies and what
would change it, then, with a photo, the rule's Chinese name and plain explanation without
rule numbers or sources. A supervisor opening the same ticket reads the source as well.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.e2e.test_login_and_home import log_in
from tests.factories import OrderFactory, OrderItemFactory, TicketFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fridge_ticket(team, agent):
    """The shipped rule table, and a ¥4,599 fridge with a quality fault signed for today."""
    from django.apps import apps

    from policies.services.seeding import install_defaults

    install_defaults(apps)  # browser tests empty the database between cases
    now = timezone.now()
    order = OrderFactory(paid_amount=Decimal("4599.00"), paid_at=now - timedelta(days=3),
                         shipped_at=now - timedelta(days=2), signed_at=now - timedelta(hours=2),
                         customer__name="赵丽")
    item = OrderItemFactory(order=order, title="双开门冰箱", category="large_appliance",
                            unit_price=Decimal("4599.00"), paid_amount=Decimal("4599.00"))
    return TicketFactory(team=team, assignee=agent, state="in_progress",
                         customer=order.customer, order=order, order_item=item,
                         subject="冰箱不制冷", request_reason="quality_defect",
                         item_condition="intact")


def add_photo(ticket):
    from tickets.models import Attachment

    Attachment.objects.create(ticket=ticket, evidence_kind="photo", file="evidence/x.png",
                              label="x.png", content_type="image/png", size=1, sha256="0" * 64)


def open_ticket(page, live_server, ticket):
    page.goto(f"{live_server.url}/tickets/{ticket.number}/")
    page.wait_for_selector("[data-testid=policy-options]")
    return page.locator("[data-testid=policy-options]")


def test_the_agent_reads_why_nothing_applies_and_then_plain_chinese(
        page, live_server, agent, supervisor, fridge_ticket, screenshot):
    log_in(page, live_server, agent.username)
    panel = open_ticket(page, live_server, fridge_ticket)

    # No evidence yet: the panel stays and says what would open an option.
    explained = panel.locator("[data-testid=no-option]")
    assert explained.is_visible()
    would_allow = explained.locator(".would-allow li").all_inner_texts()
    assert any("72小时内质量问题退货" in line and "照片" in line for line in would_allow)
    assert explained.locator(".why li").count() >= 1
    screenshot("plain-decisions-no-option-zh-hans")

    # With a photo the options appear, named and explained in Chinese, without sources.
    add_photo(fridge_ticket)
    panel = open_ticket(page, live_server, fridge_ticket)
    option = panel.locator("li[data-kind=return_refund]")
    text = option.inner_text()
    assert "72小时内质量问题退货" in text
    assert "签收72小时内反馈质量问题并提供了照片或视频" in text
    for developer_text in ("DOMAIN.md", "Decided by rule", "依据规则", "来源", "Quality defect"):
        assert developer_text not in panel.inner_text()
    assert option.locator("[data-testid=rule-source]").count() == 0
    screenshot("plain-decisions-agent-zh-hans")
    assert not page.js_errors

    # A supervisor reads the same option with the rule's source.
    page.context.clear_cookies()
    log_in(page, live_server, supervisor.username)
    panel = open_ticket(page, live_server, fridge_ticket)
    source = panel.locator("li[data-kind=return_refund] [data-testid=rule-source]")
    assert "DOMAIN.md" in source.inner_text()
    assert "72小时内质量问题退货" in source.inner_text()  # the rule's name in Chinese there too
    screenshot("plain-decisions-supervisor-zh-hans")
    assert not page.js_errors
