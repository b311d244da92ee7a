"""An agent proposes a refund above their limit; the supervisor finds it through the top bar's
badge, rejects without a reason (refused), approves with a note, and the audit trail shows it."""

from decimal import Decimal

import pytest

from tests.e2e.test_login_and_home import log_in
from tests.factories import OrderItemFactory, TicketFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def refund_above_the_agents_limit(team, agent, supervisor, settings):
    """A quality complaint of ¥259 worked by the agent, whose limit is ¥100."""
    from policies.models import ApprovalLimit, PolicyRule

    settings.TASKS_RUN_INLINE = True  # the payment runs as soon as the refund is approved
    PolicyRule.objects.all().delete()  # the shipped table, where a test database still has it
    PolicyRule.objects.create(
        name="Quality refund with approval", name_zh="质量问题退款（需审批）", kind="refund_only",
        priority=10, reasons=["quality_defect"], verdict="needs_approval",
        approval_role="agent", refund_rule="item_remaining", source="e2e")
    ApprovalLimit.objects.all().delete()
    for role, amount in [("agent", Decimal("100")), ("senior_agent", Decimal("200")),
                         ("complaint_specialist", Decimal("200")), ("supervisor", None)]:
        ApprovalLimit.objects.create(role=role, max_amount=amount)
    item = OrderItemFactory(order__customer__name="林晓雨", title="无线蓝牙耳机",
                            paid_amount=Decimal("259.00"), order__paid_amount=Decimal("259.00"))
    return TicketFactory(team=team, assignee=agent, state="in_progress",
                         customer=item.order.customer, order=item.order, order_item=item,
                         subject="收到的耳机左耳没有声音", request_reason="quality_defect",
                         item_condition="used", requested_resolution="refund_only")


def log_out(page):
    page.click("nav form[action$='/logout/'] button")
    page.wait_for_url("**/accounts/login/**")


def test_a_supervisor_decides_from_the_approvals_inbox(page, live_server, agent, supervisor,
                                                      refund_above_the_agents_limit,
                                                      screenshot):
    ticket = refund_above_the_agents_limit
    # The agent proposes the refund; the customer agrees. It is above the agent's limit.
    log_in(page, live_server, agent.username)
    page.goto(f"{live_server.url}/tickets/{ticket.number}/")
    page.click("[data-propose=refund_only]")
    card = page.locator(".resolution-card[data-kind=refund_only]")
    card.wait_for()
    card.locator("[data-action=accept] button").click()
    page.wait_for_selector(".resolution-card[data-kind=refund_only][data-state=accepted]")
    assert page.locator("[data-action=approve]").count() == 0  # never one's own proposal
    log_out(page)

    # The supervisor sees the badge and opens the inbox from it.
    log_in(page, live_server, supervisor.username)
    badge = page.locator("[data-nav=approvals] [data-testid=approvals-waiting]")
    assert badge.inner_text() == "1"
    assert page.locator("[data-panel=approvals] [data-testid=home-approvals-count]"
                        ).inner_text() == "1"
    page.click("[data-nav=approvals]")
    row = page.locator(f"tr[data-ticket='{ticket.number}']")
    row.wait_for()
    assert "¥259.00" in row.inner_text()
    assert "质量问题退款（需审批）" in row.inner_text()
    screenshot("approvals-inbox-zh-hans")

    # Rejecting asks for the reason: the browser refuses an empty one, the server a blank one.
    row.locator("[data-confirm=reject] summary").click()
    reason = row.locator("[data-action=reject] input[name=reason]")
    reason.wait_for()
    row.locator("[data-action=reject] button").click()
    assert reason.evaluate("input => !input.validity.valid")
    reason.fill("   ")
    row.locator("[data-action=reject] button").click()
    page.wait_for_selector("[data-testid=approval-error]")
    assert "审计记录" in page.locator("[data-testid=approval-error]").inner_text()
    screenshot("approvals-inbox-reject-refused-zh-hans")

    # Approving with a note.
    row = page.locator(f"tr[data-ticket='{ticket.number}']")
    row.locator("[data-action=approve] input[name=comment]").fill("照片已核实，质量问题属实")
    row.locator("[data-action=approve] button").click()
    page.wait_for_selector("[data-testid=no-resolutions]")
    assert page.locator("[data-testid=approvals-waiting]").count() == 0

    # The ticket's audit trail shows the approval with its note.
    page.goto(f"{live_server.url}/tickets/{ticket.number}/")
    page.wait_for_selector(".resolution-card[data-kind=refund_only][data-state=completed]")
    page.click("[data-testid=audit-tab]")
    page.wait_for_selector("#audit-trail")
    reasons = page.locator("#audit-trail tbody tr").evaluate_all(
        "rows => rows.map(row => row.dataset.reason)")
    assert "transition:approve — 照片已核实，质量问题属实" in reasons
    assert "照片已核实，质量问题属实" in page.locator("#audit-trail").inner_text()
    screenshot("approvals-audit-trail-zh-hans")

    # The notification that it waited links to the ticket.
    page.click("[data-nav=notifications]")
    page.locator("[data-testid=notification-link]").first.click()
    page.wait_for_url(f"**/tickets/{ticket.number}/")
    # The refused rejection answered 400, which the browser logs; nothing else may be logged.
    assert [error for error in page.js_errors if "status of 400" not in error] == []
