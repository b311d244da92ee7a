"""Triage in the browser: what a queue row tells, opening a row, filters, the agent's day."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.e2e.test_login_and_home import log_in
from tests.factories import TicketFactory
from tickets.models import Category, Priority, TicketState

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def queue(team, agent):
    now = timezone.now()
    waiting = TicketFactory(
        team=team, assignee=agent, state=TicketState.IN_PROGRESS, priority=Priority.P1,
        category=Category.ORDER_LATE, subject="快递三天没动",
        last_customer_message="物流三天没更新了，麻烦帮我催一下快递，今天能不能给个准信？谢谢",
        last_customer_message_at=now - timedelta(minutes=95),
        customer_waiting_since=now - timedelta(minutes=95),
        resolution_due_at=now - timedelta(hours=1))
    other = TicketFactory(team=team, assignee=agent, state=TicketState.IN_PROGRESS,
                          priority=Priority.P2, category=Category.QUALITY_MALFUNCTION,
                          subject="耳机左耳没有声音")
    return waiting, other


def test_an_agent_triages_from_the_queue_and_the_home_page(page, live_server, agent, queue,
                                                            screenshot):
    waiting, other = queue
    log_in(page, live_server, agent.username)

    # The home page is the agent's day.
    day = page.locator("[data-testid=my-day]")
    assert day.is_visible()
    assert day.locator("[data-testid=open-total]").inner_text() == "2"
    assert day.locator("[data-testid=overdue]").inner_text() == "1"
    assert day.locator(f"[data-card=due-soon] [data-ticket='{waiting.number}'] a").is_visible()
    screenshot("triage-home")

    # The queue row tells what the customer said last and how long they have waited.
    page.goto(live_server.url + reverse("console-queue", args=["mine"]))
    row = page.locator(f"tr[data-ticket='{waiting.number}']")
    assert "物流三天没更新了" in row.locator(".last-message").inner_text()
    assert row.locator(".customer-waiting").inner_text().startswith("1")  # 1 小时 35 分
    assert page.locator("[data-queue=mine] .queue-count").inner_text() == "2"
    screenshot("triage-queue")

    # Changing a filter reloads the queue without pressing Apply.
    with page.expect_navigation():
        page.select_option("#id_category", Category.QUALITY_MALFUNCTION.value)
    assert "category=quality_malfunction" in page.url
    assert page.locator(f"tr[data-ticket='{other.number}']").is_visible()
    assert page.locator(f"tr[data-ticket='{waiting.number}']").count() == 0
    screenshot("triage-queue-filtered")

    # A click anywhere on the row opens the ticket.
    with page.expect_navigation():
        page.locator(f"tr[data-ticket='{other.number}'] td.subject-cell").click()
    assert f"/{other.number}/" in page.url
    screenshot("triage-row-opened")
    assert page.js_errors == []
