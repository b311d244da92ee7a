"""axe-core finds no serious or critical accessibility violation on the pages agents live in.

One row per page: who uses it and how to reach it. A page is checked as its role sees it,
in Chinese, with a ticket that has messages, an order and a proposed resolution.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from core.models.roles import Role
from resolutions.models import ResolutionState
from tests.e2e.test_login_and_home import log_in
from tests.factories import MessageFactory, OrderItemFactory
from tests.resolutions.money import ready_resolution
from tickets.models import MessageKind, TicketState

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BLOCKING_IMPACTS = {"serious", "critical"}


@dataclass(frozen=True)
class Page:
    name: str
    role: Role
    path: Callable[[dict], str]  # from the case's objects to the page's path
    ready: str  # a selector that is there once the page has drawn


PAGES = [
    Page("queue", Role.AGENT, lambda case: "/tickets/queue/mine/", "table"),
    Page("workspace", Role.AGENT, lambda case: f"/tickets/{case['ticket'].number}/",
         "#tab-audit, [data-testid=workspace], main"),
    Page("intake", Role.AGENT, lambda case: "/tickets/new/", "form"),
    Page("dashboard", Role.SUPERVISOR, lambda case: "/dashboard/", "#chart-daily-rates, main"),
    Page("approvals", Role.SUPERVISOR, lambda case: "/tickets/approvals/",
         "[data-resolution], main"),
]


@pytest.fixture
def case(make_ticket, agent):
    """A ticket in progress with an order, a customer message and a reply."""
    from django.apps import apps

    from policies.services.seeding import install_defaults

    install_defaults(apps)
    item = OrderItemFactory(order__customer__name="林晓雨", title="无线蓝牙耳机")
    ticket = make_ticket(TicketState.IN_PROGRESS, customer=item.order.customer, order=item.order,
                         order_item=item, subject="收到的耳机左耳没有声音",
                         request_reason="quality_defect", requested_resolution="refund_only")
    MessageFactory(ticket=ticket, kind=MessageKind.INBOUND, body="左耳没有声音，想退款。")
    MessageFactory(ticket=ticket, kind=MessageKind.REPLY, author=agent, body="您好，我来为您处理。")
    # A refund the customer agreed to, waiting for a supervisor's approval (the inbox's row).
    ready_resolution(ticket, refund="1200.00", approval_role=Role.SUPERVISOR,
                     state=ResolutionState.ACCEPTED, proposed_by=agent,
                     accepted_at=timezone.now() - timedelta(hours=3),
                     rule_name="Quality refund above the automatic limit")
    return {"ticket": ticket}


def violations_report(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        for node in violation["nodes"]:
            lines.append(f"{violation['impact']} {violation['id']}: {' '.join(node['target'])} — "
                         f"{violation['help']} ({violation['helpUrl']})")
    return "\n".join(lines)


@pytest.mark.parametrize("spec", PAGES, ids=[spec.name for spec in PAGES])
def test_no_serious_accessibility_violation(page, live_server, personas, case, screenshot,
                                            spec):
    log_in(page, live_server, personas[spec.role].username)
    page.goto(f"{live_server.url}{spec.path(case)}")
    page.wait_for_selector(spec.ready)
    page.wait_for_load_state("networkidle")

    results = Axe().run(page)
    screenshot(f"axe-{spec.name}", full_page=True)

    blocking = [violation for violation in results.response["violations"]
                if violation["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"{spec.name}:\n{violations_report(blocking)}"
