"""An agent writes an article, QA approves it, and a search in Traditional finds it;
an agent copies a script filled for a ticket."""

import pytest

from knowledge.models import Category, ScriptTemplate, ScriptUsage
from tests.e2e.test_login_and_home import log_in
from tests.factories import CustomerFactory, TicketFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def log_out(page):
    page.click("form[action$='/accounts/logout/'] button")
    page.wait_for_selector("#id_username")


def test_an_article_goes_from_draft_through_review_to_search(page, live_server, agent,
                                                             qa_inspector, screenshot):
    parent = Category.objects.create(name="售后政策")
    Category.objects.create(name="退货", parent=parent)

    log_in(page, live_server, agent.username)
    page.click("[data-nav=knowledge]")
    page.click("[data-testid=new-article]")
    page.fill("#id_title", "七天无理由退货运费")
    page.select_option("#id_article_type", "policy")
    page.select_option("#id_category", label="\u3000退货")
    page.fill("#id_tags", "退货, 运费")
    page.fill("#id_body", "签收后**7天内**可申请无理由退货。\n\n- 运费由买家承担\n- 有运费险的按保险理赔")
    page.locator("#preview strong").wait_for()
    assert page.locator("#preview strong").inner_text() == "7天内"
    screenshot("knowledge-editor")
    page.click("[data-testid=save-and-submit]")
    page.wait_for_selector("[data-testid=article-state]")
    assert page.locator("[data-testid=publish-article]").count() == 0
    log_out(page)

    log_in(page, live_server, qa_inspector.username)
    page.click("[data-nav=knowledge_review]")
    page.locator("#in-review").get_by_text("七天无理由退货运费").wait_for()
    screenshot("knowledge-review-queue")
    page.click("#in-review a:has-text('七天无理由退货运费')")
    page.fill("#review-note", "运费规则已核对")
    page.click("[data-testid=publish-article]")
    page.wait_for_selector("#article[data-state=published]")
    log_out(page)

    log_in(page, live_server, agent.username)
    page.click("[data-nav=knowledge]")
    page.fill("#kb-q", "退貨 運費 -定制")
    page.press("#kb-q", "Enter")
    page.locator("#search-results mark").first.wait_for()
    hit = page.locator("#search-results li").first
    assert "七天无理由退货运费" in hit.inner_text()
    assert "q=" in page.url
    screenshot("knowledge-search")
    assert page.js_errors == []


def test_an_agent_copies_a_script_filled_for_a_ticket(page, live_server, agent, team,
                                                      screenshot):
    ScriptTemplate.objects.create(
        title="问候", scenario="greeting",
        body="{customer_name}您好，这里是{shop_name}客服，请问有什么可以帮您？")
    ticket = TicketFactory(team=team, customer=CustomerFactory(name="李女士"))
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])

    log_in(page, live_server, agent.username)
    page.click("[data-nav=knowledge_scripts]")
    page.fill("#id_ticket", ticket.number)
    page.click("#script-filters button[type=submit]")
    page.wait_for_selector("[data-testid=script-ticket]")
    assert page.locator("[data-script-text]").first.inner_text().startswith("李女士您好")
    page.click("[data-script-copy]")
    page.wait_for_selector("[data-script-done]:not(.d-none)")
    screenshot("knowledge-scripts")

    assert page.evaluate("navigator.clipboard.readText()").startswith("李女士您好")
    assert ScriptUsage.objects.get(user=agent).count == 1
    assert page.js_errors == []
