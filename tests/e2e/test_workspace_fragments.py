"""The parts of the workspace that load on their own land in their place, not over the page."""

import pytest

from tests.e2e.test_login_and_home import log_in
from tests.factories import CustomerFactory, MessageFactory, TicketFactory
from tickets.selectors import TIMELINE_PAGE_SIZE

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_script_picker_customer_history_and_earlier_messages(page, live_server, agent, team,
                                                             screenshot):
    customer = CustomerFactory(name="林晓雨")
    earlier = TicketFactory(customer=customer, team=team, subject="上次的快递破损")
    ticket = TicketFactory(customer=customer, team=team, assignee=agent, state="in_progress")
    for index in range(TIMELINE_PAGE_SIZE + 5):
        MessageFactory(ticket=ticket, body=f"第 {index + 1} 条消息")
    log_in(page, live_server, agent.username)
    page.goto(f"{live_server.url}/tickets/{ticket.number}/")

    # The script picker arrives inside the reply form; the workspace stays whole.
    page.get_by_test_id("script-picker").wait_for()
    assert page.locator("#reply-form [data-testid=script-picker]").count() == 1
    assert page.locator(f"#workspace[data-ticket='{ticket.number}']").count() == 1
    assert "第 1 条消息" not in page.locator("#workspace").inner_text()

    page.locator("[data-testid=customer-earlier] summary").click()
    page.get_by_test_id("customer-earlier-lists").wait_for()
    assert earlier.number in page.get_by_test_id("customer-earlier-lists").inner_text()

    page.get_by_test_id("load-earlier").click()
    page.get_by_text("第 1 条消息", exact=True).wait_for()
    assert page.get_by_test_id("load-earlier").count() == 0
    screenshot("console-workspace-earlier-messages-zh-hans")
    assert page.js_errors == []
