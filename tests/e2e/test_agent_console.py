"""An agent works a refund from claim to close; a supervisor approves it; the audit trail shows it."""

from decimal import Decimal

import pytest

from knowledge.models import Article, ArticleState, ScriptTemplate
from tests.e2e.test_login_and_home import log_in
from tests.factories import OrderItemFactory, TicketFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def refund_case(team, agent, supervisor, settings):
    """An unassigned quality complaint about a paid order, and rules that send refunds up."""
    from policies.models import ApprovalLimit, PolicyRule

    # Distinct names, so the audit trail tells the two actors apart.
    agent.first_name, agent.last_name = "王小明", ""
    supervisor.first_name, supervisor.last_name = "刘主管", ""
    agent.save()
    supervisor.save()
    settings.TASKS_RUN_INLINE = True  # the payment runs as soon as the refund is approved
    PolicyRule.objects.all().delete()  # the shipped table, where a test database still has it
    PolicyRule.objects.create(
        name="Quality refund above 100 needs a supervisor", kind="refund_only", priority=10,
        reasons=["quality_defect"], verdict="needs_approval", approval_role="supervisor",
        refund_rule="item_remaining", source="e2e")
    PolicyRule.objects.create(
        name="Apology coupon", kind="compensation_coupon", priority=20,
        reasons=["quality_defect"], verdict="allow", coupon_amount=Decimal("10"), source="e2e")
    ApprovalLimit.objects.update_or_create(role="supervisor", defaults={"max_amount": None})
    item = OrderItemFactory(order__customer__name="林晓雨", order__number="KS202611150001",
                            title="无线蓝牙耳机", paid_amount=Decimal("259.00"),
                            order__paid_amount=Decimal("259.00"))
    Article.objects.create(title="耳机单边无声怎么办", state=ArticleState.PUBLISHED, author=agent,
                           body="耳机左耳没有声音时，先重新配对；仍然无声可申请退款或换货。")
    ScriptTemplate.objects.create(
        title="受理售后问题", scenario="greeting", language="zh-hans",
        body="{customer_name}您好，您的订单{order_number}的售后问题我已收到，"
             "将在{deadline}前给您答复。客服{agent_name}")
    return TicketFactory(team=team, customer=item.order.customer, order=item.order,
                         order_item=item, subject="收到的耳机左耳没有声音",
                         request_reason="quality_defect", item_condition="used",
                         requested_resolution="refund_only")


def log_out(page):
    page.click("nav form[action$='/logout/'] button")
    page.wait_for_url("**/accounts/login/**")


def htmx_settled(page):
    page.wait_for_load_state("networkidle")


def test_an_agent_works_a_refund_from_claim_to_close(page, live_server, agent, supervisor,
                                                     refund_case, screenshot):
    ticket = refund_case
    # The agent claims the next ticket of the team's queue.
    log_in(page, live_server, agent.username)
    page.click("[data-nav=queues]")
    page.click("[data-queue=unassigned]")
    page.wait_for_selector(f"tr[data-ticket='{ticket.number}']")
    screenshot("console-queue-zh-hans")
    page.click("[data-testid=claim-next]")
    page.wait_for_selector(f"#workspace[data-ticket='{ticket.number}'][data-state=assigned]")

    # The agent replies with a script template; its placeholders come filled in.
    script = ScriptTemplate.objects.get(title="受理售后问题")
    page.fill("[data-testid=script-picker]", script.title)
    page.click(f"#script-option-{script.pk}")
    reply = page.input_value("#id_body")
    assert reply.startswith("林晓雨您好，您的订单KS202611150001的售后问题我已收到")
    assert reply.endswith("客服王小明")
    assert "{" not in reply
    page.fill("#id_body", reply + "（已查看照片）")
    page.click("[data-testid=send-reply]")
    page.wait_for_selector("#workspace[data-state=in_progress]")
    assert "（已查看照片）" in page.locator("#timeline li[data-kind=reply]").inner_text()
    assert ScriptTemplate.objects.get().usage_count == 1

    # The agent proposes the refund the policy offers; the customer agrees on the phone.
    option = page.locator("#policy-options li[data-kind=refund_only]")
    assert option.get_attribute("data-verdict") == "needs_approval"
    assert option.locator(".explanation").inner_text().strip()
    page.click("[data-propose=refund_only]")
    card = page.locator(".resolution-card[data-kind=refund_only]")
    card.wait_for()
    page.wait_for_selector("#kb-suggestions [data-article]")  # loaded beside the workspace
    screenshot("console-workspace-zh-hans")
    card.locator("[data-action=accept] button").click()
    page.wait_for_selector(".resolution-card[data-kind=refund_only][data-state=accepted]")
    assert page.locator("[data-action=approve]").count() == 0  # never one's own proposal
    log_out(page)

    # A supervisor approves; the refund is paid.
    log_in(page, live_server, supervisor.username)
    page.goto(f"{live_server.url}/tickets/{ticket.number}/")
    page.locator(".resolution-card[data-kind=refund_only] [data-action=approve] button").click()
    page.wait_for_selector(".resolution-card[data-kind=refund_only][data-state=completed]")
    log_out(page)

    # The agent resolves and closes the ticket.
    log_in(page, live_server, agent.username)
    page.goto(f"{live_server.url}/tickets/{ticket.number}/")
    page.fill("[data-transition=resolve] input[name=summary]", "已退款 259 元，客户满意")
    page.click("[data-transition=resolve] button")
    page.wait_for_selector("#workspace[data-state=resolved]")
    page.click("[data-transition=close] button")
    page.wait_for_selector("#workspace[data-state=closed]")

    # The audit trail shows each step with its actor.
    page.click("[data-testid=audit-tab]")
    page.wait_for_selector("#audit-trail")
    rows = page.locator("#audit-trail tbody tr")
    steps = {(rows.nth(i).get_attribute("data-reason").split(" — ")[0],
              rows.nth(i).get_attribute("data-actor")) for i in range(rows.count())}
    agent_name, supervisor_name = str(agent), str(supervisor)
    for step in [("transition:assign", agent_name), ("first_response", agent_name),
                 ("message:reply", agent_name), ("propose:refund_only", agent_name),
                 ("transition:accept", agent_name), ("transition:approve", supervisor_name),
                 ("transition:resolve", agent_name), ("transition:close", agent_name)]:
        assert step in steps, step
    assert any(reason == "payout" for reason, _actor in steps)
    screenshot("console-audit-trail-zh-hans")
    assert page.js_errors == []

    # The same pages read in English.
    page.select_option("#language-switcher", "en")
    page.wait_for_selector("text=Log out")
    screenshot("console-workspace-en")
    page.goto(f"{live_server.url}/tickets/queue/mine/")
    screenshot("console-queue-en")
    assert page.js_errors == []


def test_phone_intake_guides_the_agent_through_required_fields(page, live_server, agent, team,
                                                               screenshot):
    item = OrderItemFactory(order__customer__name="王女士", order__customer__phone="13900001111",
                            order__number="JD202611200007")
    log_in(page, live_server, agent.username)
    page.click("[data-nav=new_ticket]")
    page.locator("#customer-search").press_sequentially("1111", delay=50)
    page.wait_for_selector("#customer-matches")
    page.check(f"#order-{item.order.pk}")
    assert page.input_value("#id_order_number") == "JD202611200007"
    page.select_option("#id_ticket_type", "after_sales")
    page.fill("#id_subject", "鞋子尺码不合适")
    page.click("[data-testid=create-ticket]")
    page.wait_for_selector("[data-error=request_reason]")
    screenshot("console-phone-intake-errors-zh-hans")

    assert page.input_value("#id_order_number") == "JD202611200007"  # kept for the retry
    page.select_option("#id_request_reason", "no_reason")
    page.select_option("#id_requested_resolution", "return_refund")
    page.click("[data-testid=create-ticket]")
    page.wait_for_selector("#workspace")
    assert "鞋子尺码不合适" in page.inner_text("#workspace header")
    assert page.js_errors == []


def test_sla_badges_count_down_in_the_page(page, live_server, agent, make_ticket):
    ticket = make_ticket("assigned")  # first response due in two hours
    page.clock.install()
    log_in(page, live_server, agent.username)
    page.goto(f"{live_server.url}/tickets/queue/mine/")
    badge = page.locator(f"tr[data-ticket='{ticket.number}'] .sla-badge")
    assert badge.get_attribute("data-sla") == "warning"

    page.clock.fast_forward("03:00:00")  # the deadline passes while the page is open

    page.wait_for_selector(f"tr[data-ticket='{ticket.number}'] .sla-badge[data-sla=danger]")
    assert "已超时 1小时" in badge.inner_text()
    assert page.js_errors == []
