"""The agent console's pages: queues, the workspace and its actions, phone intake, bulk changes."""

from decimal import Decimal

import pytest
from django.urls import reverse

from policies.models import ApprovalLimit, PolicyRule
from resolutions.models import Resolution, ResolutionState
from tests.factories import CustomerFactory, MessageFactory, OrderItemFactory, TicketFactory
from tickets.models import Message, MessageKind, Priority, Tag, Ticket, TicketState

# Written against English messages, as the ticket tests they came from.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def refund_rules(db):
    """Refunds of quality defects need a supervisor's approval; a coupon is always allowed."""
    PolicyRule.objects.all().delete()
    PolicyRule.objects.create(
        name="Refund needs a supervisor", kind="refund_only", priority=10,
        reasons=["quality_defect"], verdict="needs_approval", approval_role="supervisor",
        refund_rule="item_remaining", source="test")
    PolicyRule.objects.create(
        name="Sorry coupon", kind="compensation_coupon", priority=20, reasons=["quality_defect"],
        verdict="allow", coupon_amount=Decimal("10"), source="test")
    PolicyRule.objects.create(name="No exchange", kind="exchange", priority=5, verdict="deny",
                              source="test")
    ApprovalLimit.objects.update_or_create(role="supervisor", defaults={"max_amount": None})


@pytest.fixture
def ticket_with_order(make_ticket):
    item = OrderItemFactory(paid_amount=Decimal("199.00"))
    return make_ticket(TicketState.IN_PROGRESS, customer=item.order.customer, order=item.order,
                       order_item=item, request_reason="quality_defect",
                       item_condition="used", requested_resolution="refund_only")


# --- queues ---------------------------------------------------------------------------------
def test_my_queue_lists_my_open_tickets_with_sla_badges(client, agent, make_ticket):
    mine = make_ticket(TicketState.IN_PROGRESS, subject="耳机没声音")
    make_ticket(TicketState.CLOSED, subject="早就关了")
    client.force_login(agent)

    page = client.get(reverse("console-queue", args=["mine"])).content.decode()

    assert f'data-ticket="{mine.number}"' in page
    assert "早就关了" not in page
    assert "sla-badge" in page


def test_queue_filters_by_priority_vip_and_tag(client, agent, make_ticket):
    vip = CustomerFactory(tier="vip")
    urgent_vip = make_ticket(priority=Priority.P0, customer=vip)
    tagged = make_ticket(priority=Priority.P2)
    tagged.tags.add(Tag.objects.create(name="加急"))
    client.force_login(agent)
    url = reverse("console-queue", args=["mine"])

    by_priority = client.get(url, {"priority": "0"}).content.decode()
    by_vip = client.get(url, {"vip": "on"}).content.decode()
    by_tag = client.get(url, {"tag": "加急"}).content.decode()

    assert urgent_vip.number in by_priority
    assert tagged.number not in by_priority
    assert urgent_vip.number in by_vip
    assert tagged.number not in by_vip
    assert tagged.number in by_tag
    assert urgent_vip.number not in by_tag


def test_queue_pages_without_counting_and_stops_at_the_cap(client, agent, make_ticket, settings):
    from tickets import selectors

    for _ in range(5):
        make_ticket()
    client.force_login(agent)
    url = reverse("console-queue", args=["mine"])
    original = selectors.QUEUE_PAGE_SIZE, selectors.QUEUE_MAX_PAGES
    selectors.QUEUE_PAGE_SIZE, selectors.QUEUE_MAX_PAGES = 2, 2
    try:
        first = client.get(url).context["page"]
        second = client.get(url, {"page": 2}).context["page"]
        beyond = client.get(url, {"page": 9}).context["page"]
    finally:
        selectors.QUEUE_PAGE_SIZE, selectors.QUEUE_MAX_PAGES = original

    assert len(first.tickets) == 2
    assert first.has_next
    assert not second.has_next
    assert second.at_cap
    assert beyond.number == 2
    assert {t.pk for t in first.tickets}.isdisjoint({t.pk for t in second.tickets})


@pytest.mark.parametrize("key", ["team", "unassigned", "at_risk", "breached", "escalated",
                                 "waiting_customer", "waiting_internal"])
def test_every_queue_renders(client, agent, make_ticket, key):
    make_ticket(TicketState.PENDING_CUSTOMER)
    client.force_login(agent)

    assert client.get(reverse("console-queue", args=[key])).status_code == 200


def test_an_unknown_queue_is_not_found(client, agent):
    client.force_login(agent)

    assert client.get(reverse("console-queue", args=["everything"])).status_code == 404


def test_qa_inspectors_get_the_friendly_403_page_for_queues(client, qa_inspector):
    client.force_login(qa_inspector)

    response = client.get(reverse("console-queue", args=["mine"]))

    assert response.status_code == 403
    assert 'data-testid="forbidden"' in response.content.decode()
    assert "<nav" in response.content.decode()  # the whole layout, not a bare error


def test_claim_next_assigns_the_most_urgent_unassigned_ticket(client, agent, team):
    later = TicketFactory(team=team, priority=Priority.P2)
    urgent = TicketFactory(team=team, priority=Priority.P0)
    client.force_login(agent)

    response = client.post(reverse("console-claim-next"), **HTMX)

    urgent.refresh_from_db()
    later.refresh_from_db()
    assert response["HX-Redirect"] == reverse("console-ticket", args=[urgent.number])
    assert urgent.assignee == agent
    assert urgent.state == TicketState.ASSIGNED
    assert later.assignee is None


def test_claim_next_with_empty_queues_says_so(client, agent, team):
    client.force_login(agent)

    response = client.post(reverse("console-claim-next"), follow=True)

    assert "Nothing to claim" in response.content.decode()


# --- supervisors' bulk changes --------------------------------------------------------------
def test_supervisors_reassign_and_reprioritise_ticked_tickets(client, supervisor, other_agent,
                                                              make_ticket):
    first, second = make_ticket(), make_ticket()
    client.force_login(supervisor)

    client.post(reverse("console-bulk"), {"action": "reassign", "assignee": other_agent.pk,
                                          "ticket": [first.number, second.number]})
    client.post(reverse("console-bulk"), {"action": "reprioritise", "priority": "0",
                                          "reason": "大促期间", "ticket": [first.number]})

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.assignee == other_agent
    assert second.assignee == other_agent
    assert first.priority == Priority.P0
    assert first.history.filter(history_change_reason__startswith="priority:P0").exists()


def test_reprioritising_without_a_reason_changes_nothing(client, supervisor, make_ticket):
    ticket = make_ticket(priority=Priority.P2)
    client.force_login(supervisor)

    response = client.post(reverse("console-bulk"), {"action": "reprioritise", "priority": "0",
                                                     "ticket": [ticket.number]}, follow=True)

    ticket.refresh_from_db()
    assert ticket.priority == Priority.P2
    assert "Give a reason" in response.content.decode()


def test_agents_may_not_bulk_change(client, agent, make_ticket):
    ticket = make_ticket()
    client.force_login(agent)

    response = client.post(reverse("console-bulk"), {"action": "reprioritise", "priority": "0",
                                                     "reason": "x", "ticket": [ticket.number]})

    assert response.status_code == 403


# --- the workspace --------------------------------------------------------------------------
def test_workspace_shows_customer_order_options_and_timeline(client, agent, ticket_with_order,
                                                             refund_rules):
    MessageFactory(ticket=ticket_with_order, body="左耳完全没有声音")
    client.force_login(agent)

    page = client.get(reverse("console-ticket", args=[ticket_with_order.number])).content.decode()

    assert "左耳完全没有声音" in page
    assert ticket_with_order.order.number in page
    assert 'data-kind="refund_only" data-verdict="needs_approval"' in page
    assert 'data-propose="refund_only"' in page
    assert 'data-propose="exchange"' not in page  # denied options cannot be proposed
    assert 'data-transition="resolve"' in page


def test_a_reply_through_htmx_returns_the_refreshed_workspace(client, agent, make_ticket):
    ticket = make_ticket(TicketState.ASSIGNED)
    client.force_login(agent)

    response = client.post(reverse("console-reply", args=[ticket.number]),
                           {"kind": "reply", "body": "您好，我们马上为您处理。"}, **HTMX)

    ticket.refresh_from_db()
    page = response.content.decode()
    assert ticket.state == TicketState.IN_PROGRESS
    assert ticket.first_response_at
    assert page.startswith('\n<div id="workspace"') or '<div id="workspace"' in page[:200]
    assert "您好，我们马上为您处理。" in page
    assert "<html" not in page


def test_an_empty_reply_is_refused_with_a_message_and_adds_nothing(client, agent, make_ticket):
    ticket = make_ticket()
    client.force_login(agent)

    response = client.post(reverse("console-reply", args=[ticket.number]),
                           {"kind": "reply", "body": "  "}, **HTMX)

    assert "Write something first." in response.content.decode()
    assert not Message.objects.filter(ticket=ticket).exists()


def test_someone_elses_ticket_refuses_a_reply_with_the_403_fragment(client, other_agent,
                                                                    make_ticket):
    ticket = make_ticket()  # assigned to `agent`
    client.force_login(other_agent)

    response = client.post(reverse("console-reply", args=[ticket.number]),
                           {"kind": "reply", "body": "我来处理"}, **HTMX)

    assert response.status_code == 403
    assert response["HX-Retarget"] == "#flash"
    assert not Message.objects.filter(ticket=ticket, kind=MessageKind.REPLY).exists()


def test_the_workspace_offers_only_the_transitions_the_user_may_take(client, other_agent,
                                                                     make_ticket):
    ticket = make_ticket()
    client.force_login(other_agent)

    page = client.get(reverse("console-ticket", args=[ticket.number])).content.decode()

    assert "data-transition=" not in page
    assert 'id="reply-form"' not in page


def test_transitions_need_their_inputs(client, agent, make_ticket):
    ticket = make_ticket()
    client.force_login(agent)

    response = client.post(reverse("console-transition", args=[ticket.number]),
                           {"name": "resolve", "summary": ""}, **HTMX)

    ticket.refresh_from_db()
    assert ticket.state == TicketState.IN_PROGRESS
    assert "Describe how the request was resolved." in response.content.decode()


def test_escalating_needs_a_reason_and_moves_the_level_up(client, agent, make_ticket,
                                                          escalation_teams):
    ticket = make_ticket()
    client.force_login(agent)
    url = reverse("console-escalate", args=[ticket.number])

    refused = client.post(url, {"level": "l1", "reason": ""}, **HTMX)
    client.post(url, {"level": "l1", "reason": "客户情绪激动"}, **HTMX)

    ticket.refresh_from_db()
    assert "Give a reason" in refused.content.decode()
    assert ticket.complaint_level == "l1"


def test_propose_approve_pay_resolve_close(client, agent, supervisor, ticket_with_order,
                                           refund_rules, settings):
    settings.TASKS_RUN_INLINE = True
    url = reverse("console-ticket", args=[ticket_with_order.number])
    client.force_login(agent)
    client.post(reverse("console-propose", args=[ticket_with_order.number]),
                {"kind": "refund_only"}, **HTMX)
    resolution = Resolution.objects.get(ticket=ticket_with_order)
    action = reverse("console-resolution-action", args=[ticket_with_order.number, resolution.pk])
    client.post(action, {"name": "accept"}, **HTMX)
    # The proposer may not approve their own proposal.
    assert 'data-action="approve"' not in client.get(url).content.decode()

    client.force_login(supervisor)
    assert 'data-action="approve"' in client.get(url).content.decode()
    client.post(action, {"name": "approve", "comment": "质量问题属实"}, **HTMX)

    client.force_login(agent)
    resolution.refresh_from_db()
    if resolution.state == ResolutionState.APPROVED:
        client.post(action, {"name": "execute"}, **HTMX)
    resolution.refresh_from_db()
    assert resolution.state == ResolutionState.COMPLETED
    client.post(reverse("console-transition", args=[ticket_with_order.number]),
                {"name": "resolve", "summary": "已退款 199 元"}, **HTMX)
    client.post(reverse("console-transition", args=[ticket_with_order.number]),
                {"name": "close"}, **HTMX)

    ticket = Ticket.objects.get(pk=ticket_with_order.pk)
    assert ticket.state == TicketState.CLOSED


def test_the_audit_tab_filters_by_acting_user(client, agent, supervisor, make_ticket):
    from tickets import services

    ticket = make_ticket()
    services.ticket_change_priority(ticket=ticket, actor=agent, priority=1, reason="客户催促")
    services.ticket_change_priority(ticket=ticket, actor=supervisor, priority=0, reason="升级")
    client.force_login(supervisor)
    url = reverse("console-audit", args=[ticket.number])

    everyone = client.get(url, **HTMX).context["entries"]
    agent_only = client.get(url, {"actor": agent.pk}, **HTMX).context["entries"]

    assert {entry["actor_id"] for entry in everyone} >= {agent.pk, supervisor.pk}
    assert {entry["actor_id"] for entry in agent_only} == {agent.pk}


# --- phone intake ---------------------------------------------------------------------------
def test_phone_intake_finds_the_caller_by_phone(client, agent):
    customer = CustomerFactory(phone="13812345678", name="林晓雨")
    OrderItemFactory(order__customer=customer, order__number="KS202611150001")
    client.force_login(agent)

    page = client.get(reverse("console-customer-search"), {"q": "5678"}).content.decode()

    assert "林晓雨" in page
    assert "KS202611150001" in page
    assert "13812345678" not in page  # the phone number stays masked


def test_phone_intake_requires_the_type_templates_fields(client, agent):
    customer = CustomerFactory()
    client.force_login(agent)

    response = client.post(reverse("console-new-ticket"), {
        "customer": customer.pk, "ticket_type": "after_sales", "subject": "要退货"})

    errors = response.context["form"].errors
    assert set(errors) == {"order_number", "request_reason", "requested_resolution"}
    assert not Ticket.objects.exists()


def test_phone_intake_refuses_another_customers_order(client, agent):
    caller = CustomerFactory()
    item = OrderItemFactory()
    client.force_login(agent)

    response = client.post(reverse("console-new-ticket"), {
        "customer": caller.pk, "ticket_type": "logistics", "subject": "快递不动了",
        "order_number": item.order.number})

    assert "belongs to another customer" in response.content.decode()
    assert not Ticket.objects.exists()


def test_phone_intake_opens_a_phone_ticket_for_a_new_customer(client, agent, team):
    client.force_login(agent)

    response = client.post(reverse("console-new-ticket"), {
        "external_id": "TEL-0001", "name": "王女士", "phone": "13900001111",
        "ticket_type": "consultation", "subject": "会员积分怎么用"})

    ticket = Ticket.objects.get()
    assert response["Location"] == reverse("console-ticket", args=[ticket.number])
    assert ticket.channel == "phone"
    assert ticket.customer.external_id == "TEL-0001"
    assert ticket.ticket_type == "consultation"
    assert ticket.claims_statutory is False


def test_phone_intake_records_a_statutory_claim(client, agent, team):
    """Issue 16: the customer's claim (CRPL art. 55) is a fact of its own on the ticket."""
    client.force_login(agent)

    client.post(reverse("console-new-ticket"), {
        "external_id": "TEL-0002", "name": "李先生", "phone": "13900002222",
        "ticket_type": "consultation", "subject": "买到假货要求退一赔三",
        "request_reason": "counterfeit", "claims_statutory": "on"})

    assert Ticket.objects.get().claims_statutory is True


# --- navigation -----------------------------------------------------------------------------
def test_agents_find_the_queues_in_the_navigation_and_on_the_home_page(client, agent, qa_inspector):
    client.force_login(agent)
    home = client.get(reverse("home")).content.decode()
    client.force_login(qa_inspector)
    qa_home = client.get(reverse("home")).content.decode()

    assert 'data-nav="queues"' in home
    assert 'data-link="queues"' in home
    assert 'data-nav="new_ticket"' in home
    assert 'data-nav="queues"' not in qa_home


def test_bulk_changes_go_back_only_to_this_site(client, supervisor, make_ticket):
    ticket = make_ticket()
    client.force_login(supervisor)

    response = client.post(reverse("console-bulk"), {
        "action": "reprioritise", "priority": "1", "reason": "x", "ticket": [ticket.number],
        "next": "//evil.example/steal"})

    assert response["Location"] == reverse("console-queue", args=["team"])


def test_bulk_changes_need_a_ticked_ticket(client, supervisor):
    client.force_login(supervisor)

    response = client.post(reverse("console-bulk"), {"action": "reprioritise", "priority": "1",
                                                     "reason": "x"}, follow=True)

    assert "Tick at least one ticket." in response.content.decode()


def test_the_workspace_loads_knowledge_suggestions_for_the_ticket(client, agent, make_ticket):
    from knowledge.models import Article, ArticleState

    ticket = make_ticket(subject="耳机左耳没有声音")
    Article.objects.create(title="耳机左耳无声", body="耳机左耳没有声音时，先重新配对。",
                           state=ArticleState.PUBLISHED, author=agent)
    client.force_login(agent)

    page = client.get(reverse("console-ticket", args=[ticket.number])).content.decode()
    url = reverse("knowledge:suggestions", args=[ticket.number])
    panel = client.get(url, **HTMX).content.decode()

    assert f'hx-get="{url}"' in page
    assert "耳机左耳无声" in panel
    assert "<mark>" in panel


def test_queue_rows_and_the_timeline_escape_what_customers_wrote(client, agent, make_ticket):
    ticket = make_ticket(subject='<script>alert("x")</script>')
    MessageFactory(ticket=ticket, body="<img src=x onerror=alert(1)>\n第二行")
    client.force_login(agent)

    queue = client.get(reverse("console-queue", args=["mine"])).content.decode()
    workspace = client.get(reverse("console-ticket", args=[ticket.number])).content.decode()

    assert "<script>alert" not in queue
    assert "&lt;script&gt;alert(&quot;x&quot;)" in queue
    assert "<img src=x" not in workspace
    assert "&lt;img src=x onerror=alert(1)&gt;<br>第二行" in workspace
