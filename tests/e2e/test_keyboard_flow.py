"""An agent works a ticket from the queue to a sent reply with the keyboard alone, and two
agents on one ticket see each other and are warned before their replies cross."""

import pytest

from knowledge.models import ScriptTemplate
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_login_and_home import log_in
from tests.factories import TicketFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def my_queue(team, agent):
    agent.first_name, agent.last_name = "小明", "王"
    agent.save()
    ScriptTemplate.objects.create(title="问候", scenario="greeting", language="zh-hans",
                                  body="{customer_name}您好，很高兴为您服务。")
    ScriptTemplate.objects.create(title="补发说明", scenario="logistics", language="zh-hans",
                                  body="已为您安排补发，请留意物流信息。")
    return [TicketFactory(team=team, assignee=agent, state="in_progress", priority=priority,
                          subject=subject, category="order_late")
            for priority, subject in [(1, "快递三天没动"), (2, "想改收货地址")]]


def test_from_the_queue_to_a_sent_reply_with_the_keyboard_alone(page, live_server, agent,
                                                                my_queue, screenshot):
    first = my_queue[0]
    log_in(page, live_server, agent.username)
    page.goto(f"{live_server.url}/tickets/queue/mine/")
    page.wait_for_selector("#queue-rows tr[data-href]")

    page.keyboard.press("j")
    assert page.locator(f"tr[data-ticket='{first.number}']").get_attribute(
        "class").count("keyboard-current") == 1
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#workspace[data-ticket='{first.number}']")
    assert page.url.endswith(f"/tickets/{first.number}/?queue=mine")
    page.get_by_test_id("script-picker").wait_for()
    assert page.locator("[data-shortcut=next-ticket]").count() == 1

    page.keyboard.press("r")
    assert page.evaluate("document.activeElement.id") == "id_body"
    page.keyboard.type("您好！")
    page.keyboard.press("Shift+Tab")  # back to the script search, just above the text
    assert page.evaluate("document.activeElement.id") == "script-picker"
    page.keyboard.type("补发")
    assert page.locator("#script-options [role=option]:visible").count() == 1
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert page.input_value("#id_body") == "您好！已为您安排补发，请留意物流信息。"
    assert page.evaluate("document.activeElement.id") == "id_body"
    screenshot("keyboard-flow-reply-with-script")
    page.keyboard.press("Control+Enter")

    page.wait_for_selector("#timeline li[data-kind=reply]")
    assert "您好！已为您安排补发" in page.locator("#timeline li[data-kind=reply]").inner_text()
    assert ScriptTemplate.objects.get(title="补发说明").usage_count == 1

    # htmx gives the fresh reply box the focus back: letters typed there are text.
    assert page.evaluate("document.activeElement.id") == "id_body"
    page.keyboard.press("Tab")  # out of the box, onto Send
    page.keyboard.press("?")
    dialog = page.get_by_test_id("shortcuts")
    dialog.wait_for(state="visible")
    assert "Ctrl" in dialog.inner_text()
    screenshot("keyboard-shortcuts-overlay")
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")

    page.keyboard.press("j")  # the next ticket of the queue
    page.wait_for_selector(f"#workspace[data-ticket='{my_queue[1].number}']")
    assert page.js_errors == []


def test_enter_in_the_intake_search_searches_without_submitting(page, live_server, agent):
    log_in(page, live_server, agent.username)
    page.goto(f"{live_server.url}/tickets/new/")
    page.fill("#customer-search", "13800000000")
    with page.expect_response(lambda response: "/tickets/new/customers/" in response.url):
        page.keyboard.press("Enter")
    page.wait_for_timeout(500)  # a submitted form would be answered by now
    assert page.locator(".text-danger[data-error]").count() == 0
    assert page.url.endswith("/tickets/new/")
    assert page.js_errors == []


def test_two_agents_on_one_ticket_see_each_other_and_replies_do_not_cross(
        browser, live_server, agent, senior_agent, team):
    agent.first_name, agent.last_name = "小明", "王"
    agent.save()
    senior_agent.first_name, senior_agent.last_name = "芳", "李"  # may work the agent's tickets
    senior_agent.save()
    ticket = TicketFactory(team=team, assignee=agent, state="in_progress")
    pages = []
    for user in (agent, senior_agent):
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        pages.append(context.new_page())
        log_in(pages[-1], live_server, user.username)
        pages[-1].goto(f"{live_server.url}/tickets/{ticket.number}/")
        pages[-1].wait_for_selector("#workspace")
    mine, theirs = pages

    # The colleague opened it second: they see the agent at once.
    theirs.wait_for_selector("#presence [data-testid=viewer]")
    assert theirs.locator("#presence").inner_text().count("王小明") == 1

    # The agent replies; the colleague, who had not seen it, is held back and warned.
    mine.fill("#id_body", "您好，已为您补发。")
    mine.click("[data-testid=send-reply]")
    mine.wait_for_selector("#timeline li[data-kind=reply]")
    theirs.fill("#id_body", "您好，我来帮您退款。")
    theirs.click("[data-testid=send-reply]")
    warning = theirs.get_by_test_id("newer-reply")
    warning.wait_for()
    assert "王小明" in warning.inner_text()
    assert theirs.input_value("#id_body") == "您好，我来帮您退款。"
    assert theirs.locator("#timeline li[data-kind=reply]").count() == 1
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    theirs.screenshot(path=str(ARTIFACTS / "working-together-warning.png"))

    theirs.click("[data-testid=send-reply]")  # "send anyway"
    theirs.wait_for_selector("#timeline li[data-kind=reply] >> nth=1")
    assert ticket.messages.filter(author=senior_agent, body="您好，我来帮您退款。").exists()
    for each in pages:
        each.context.close()
