"""An agent shows a customer's full number from the workspace, stating why; QA reads the log."""

import pytest

from supervision.models.privacy import ContactReveal
from tests.e2e.test_login_and_home import log_in
from tests.factories import CustomerFactory, TicketFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_agent_reveals_the_number_with_a_reason(page, live_server, agent, team, screenshot):
    customer = CustomerFactory(name="林晓雨", phone="13812345678")
    ticket = TicketFactory(customer=customer, team=team, assignee=agent, state="in_progress")
    log_in(page, live_server, agent.username)
    page.goto(f"{live_server.url}/tickets/{ticket.number}/")

    contact = page.get_by_test_id("customer-contact")
    assert "138****5678" in contact.inner_text()
    assert "13812345678" not in page.content()
    page.get_by_test_id("reveal-contact").click()
    contact.locator("input[name=reason]").fill("回电确认退货地址")
    screenshot("console-contact-reveal-reason-zh-hans")
    contact.get_by_role("button").click()

    page.get_by_test_id("revealed-phone").wait_for()
    assert page.get_by_test_id("revealed-phone").inner_text() == "13812345678"
    screenshot("console-contact-revealed-zh-hans")
    reveal = ContactReveal.objects.get()
    assert (reveal.revealed_by, reveal.ticket, reveal.reason) == (agent, ticket, "回电确认退货地址")
    assert page.js_errors == []


def test_a_supervisor_reveals_the_number_in_admin(page, live_server, supervisor, screenshot):
    customer = CustomerFactory(name="林晓雨", phone="13812345678")
    log_in(page, live_server, supervisor.username)
    page.goto(f"{live_server.url}/admin/shop/customer/{customer.pk}/change/")

    assert "138****5678" in page.content()
    assert "13812345678" not in page.content()
    screenshot("admin-customer-masked-zh-hans")
    page.get_by_test_id("reveal-contact").click()
    page.fill("#id_reason", "客户要求回电，核对联系方式")
    page.click("input[type=submit]")

    page.get_by_test_id("revealed-contact").wait_for()
    assert "13812345678" in page.get_by_test_id("revealed-contact").inner_text()
    screenshot("admin-customer-revealed-zh-hans")
    assert ContactReveal.objects.get().revealed_by == supervisor
