"""The console's pages and the ticket API cost a fixed number of queries, whatever the size."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from knowledge.models import Article, ArticleState, ScriptTemplate
from policies.models import PolicyRule
from resolutions import services as resolution_services
from resolutions.models import Resolution
from supervision.selectors.audit_trail import audit_trail
from tests.factories import MessageFactory, OrderItemFactory, TicketFactory
from tickets import services
from tickets.models import Attachment, Tag, TicketState

# Written against English messages, as the ticket tests they came from.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]

# --- the queue and the workspace ----------------------------------------------------------
# Session, the user with their roles and permissions (one), teams, the page's own reads,
# the unread notification badge, the approvals badge (one COUNT). Counted once here so a change
# shows up as one number to review.
# Queue: the rows, their tags, the tag filter's choices (the tabs' counts load afterwards).
QUEUE_QUERIES = 8
# Workspace (a ticket with resolutions and files): the ticket with its tags and resolutions;
# the policy facts with the rule set's version (one); the latest messages, their attachments
# and the history rows of their time span; the order items. The knowledge-base suggestions, the script picker, the customer's
# earlier tickets and refunds and earlier messages load separately (fragments below).
WORKSPACE_QUERIES = 13
# Fragments beside the workspace: the session, the user with roles and permissions, teams and
# the ticket with its tags are the fixed part of each; its resolutions are one more read
# when it has any (the timeline's tickets below do, the others do not).
FRAGMENT_BASE_QUERIES = 5
# Earlier messages: the page's messages, their attachments, the history rows of their span.
TIMELINE_FRAGMENT_QUERIES = FRAGMENT_BASE_QUERIES + 1 + 3
# Script picker: the templates with the user's favourites, their tags.
SCRIPTS_FRAGMENT_QUERIES = FRAGMENT_BASE_QUERIES + 2
# The customer's earlier tickets, earlier refunds.
CUSTOMER_HISTORY_FRAGMENT_QUERIES = FRAGMENT_BASE_QUERIES + 2
# Audit trail: history of the ticket, messages, attachments, resolutions; the payouts; and
# (one more since the hash chains) the payouts' history, read to verify their chains.
AUDIT_TRAIL_QUERIES = 6


def make_queue(team, agent, count):
    tag = Tag.objects.get_or_create(name="加急")[0]
    for _ in range(count):
        ticket = TicketFactory(team=team, assignee=agent, state=TicketState.IN_PROGRESS)
        ticket.tags.add(tag)


@pytest.mark.parametrize("count", [3, 40])
def test_queue_page_queries_do_not_grow_with_tickets(client, agent, team, count,
                                                     django_assert_num_queries):
    make_queue(team, agent, count)
    client.force_login(agent)
    url = reverse("console-queue", args=["mine"])

    with django_assert_num_queries(QUEUE_QUERIES):
        response = client.get(url)

    assert len(response.context["page"].tickets) == count


@pytest.mark.parametrize("count", [3, 40])
def test_filtered_queue_page_queries_do_not_grow_with_tickets(client, agent, team, count,
                                                              django_assert_num_queries):
    make_queue(team, agent, count)
    client.force_login(agent)
    url = reverse("console-queue", args=["team"])

    with django_assert_num_queries(QUEUE_QUERIES):
        response = client.get(url, {"priority": "2", "tag": "加急", "vip": "", "sort": "due"})

    assert len(response.context["page"].tickets) == count


@pytest.fixture
def worked_ticket(make_ticket, agent, supervisor):
    """A ticket with an order, policy rules that offer refunds and coupons, and a history."""
    PolicyRule.objects.all().delete()
    PolicyRule.objects.create(
        name="Refund needs a supervisor", kind="refund_only", priority=10,
        reasons=["quality_defect"], verdict="needs_approval", approval_role="supervisor",
        refund_rule="item_remaining", source="test")
    PolicyRule.objects.create(
        name="Coupon", kind="compensation_coupon", priority=20, reasons=["quality_defect"],
        verdict="allow", coupon_amount=Decimal("10"), source="test")
    item = OrderItemFactory()
    OrderItemFactory(order=item.order, title="耳机充电仓")
    ticket = make_ticket(customer=item.order.customer, order=item.order, order_item=item,
                         request_reason="quality_defect")
    TicketFactory(customer=item.order.customer)  # an earlier ticket of the customer
    # A knowledge-base article that matches the ticket, and script templates to pick from.
    Article.objects.create(title="耳机左耳无声", body="耳机左耳没有声音时，先重新配对。",
                           state=ArticleState.PUBLISHED, author=agent)
    for title in ("问候", "退款说明"):
        ScriptTemplate.objects.create(title=title, scenario="greeting", language="en",
                                      body="{customer_name}，您好！订单 {order_number}。")
    return ticket


def grow(ticket, agent, *, messages, resolutions):
    for index in range(messages):
        message = MessageFactory(ticket=ticket, body=f"消息 {index}")
        Attachment.objects.create(ticket=ticket, message=message, evidence_kind="photo",
                                  file="evidence/x.png", label="x.png",
                                  content_type="image/png", size=1, sha256="0" * 64)
    for _ in range(resolutions):
        resolution = resolution_services.resolution_propose(ticket=ticket, actor=agent, kind="refund_only")
        resolution_services.resolution_cancel(resolution=resolution, actor=agent, reason="客户改主意")
        services.ticket_change_priority(ticket=ticket, actor=agent,
                                        priority=(ticket.priority + 1) % 4, reason="调整")


@pytest.mark.parametrize(("messages", "resolutions"), [(2, 1), (40, 6)])
def test_workspace_queries_do_not_grow_with_messages_or_resolutions(
        client, agent, worked_ticket, messages, resolutions, django_assert_num_queries):
    grow(worked_ticket, agent, messages=messages, resolutions=resolutions)
    resolution_services.resolution_propose(ticket=worked_ticket, actor=agent, kind="refund_only")
    client.force_login(agent)
    url = reverse("console-ticket", args=[worked_ticket.number])

    with django_assert_num_queries(WORKSPACE_QUERIES):
        response = client.get(url)

    assert len(response.context["cards"]) == resolutions + 1
    assert response.context["options"]
    assert response.context["show_suggestions"]
    assert response.context["show_script_picker"]


@pytest.mark.parametrize(("messages", "resolutions"), [(2, 1), (70, 6)])
def test_earlier_messages_cost_a_fixed_number_of_queries(
        client, agent, worked_ticket, messages, resolutions, django_assert_num_queries):
    grow(worked_ticket, agent, messages=messages, resolutions=resolutions)
    newest = worked_ticket.messages.order_by("-id").first()
    client.force_login(agent)
    url = reverse("console-timeline", args=[worked_ticket.number])

    with django_assert_num_queries(TIMELINE_FRAGMENT_QUERIES):
        response = client.get(url, {"before": newest.pk}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200


def test_script_picker_costs_a_fixed_number_of_queries(client, agent, worked_ticket,
                                                       django_assert_num_queries):
    client.force_login(agent)
    url = reverse("console-scripts", args=[worked_ticket.number])

    with django_assert_num_queries(SCRIPTS_FRAGMENT_QUERIES):
        response = client.get(url, HTTP_HX_REQUEST="true")

    assert len(response.context["script_templates"]) == 2


def test_customer_history_costs_a_fixed_number_of_queries(client, agent, worked_ticket,
                                                          django_assert_num_queries):
    client.force_login(agent)
    url = reverse("console-customer-history", args=[worked_ticket.number])

    with django_assert_num_queries(CUSTOMER_HISTORY_FRAGMENT_QUERIES):
        response = client.get(url, HTTP_HX_REQUEST="true")

    assert len(response.context["earlier_tickets"]) == 1


def test_a_ticket_without_resolutions_or_files_skips_their_reads(
        client, agent, make_ticket, django_assert_num_queries):
    ticket = make_ticket()
    MessageFactory(ticket=ticket, body="耳机左耳没有声音")
    client.force_login(agent)

    # Neither the resolutions nor the attachments are read.
    with django_assert_num_queries(WORKSPACE_QUERIES - 2):
        response = client.get(reverse("console-ticket", args=[ticket.number]))

    assert response.context["cards"] == []
    assert "耳机左耳没有声音" in response.content.decode()


@pytest.mark.parametrize(("messages", "resolutions"), [(2, 1), (30, 5)])
def test_audit_trail_queries_do_not_grow(agent, worked_ticket, messages, resolutions,
                                         django_assert_num_queries):
    grow(worked_ticket, agent, messages=messages, resolutions=resolutions)

    with django_assert_num_queries(AUDIT_TRAIL_QUERIES):
        entries = audit_trail(ticket=worked_ticket)

    assert {entry["subject"] for entry in entries} >= {"ticket", "message", "resolution"}
    assert len([e for e in entries if e["subject"] == "resolution"]) == resolutions * 2
    assert Resolution.objects.filter(ticket=worked_ticket).count() == resolutions


# --- the home page -----------------------------------------------------------------------
def test_home_page_query_count_does_not_grow_with_tickets(client, supervisor, make_ticket,
                                                          django_assert_max_num_queries):
    for _ in range(20):
        make_ticket("in_progress")
    client.force_login(supervisor)

    # The request's own reads, the role panels, the day (six) and the two badges.
    with django_assert_max_num_queries(13):
        client.get(reverse("home"))


# --- the REST API --------------------------------------------------------------------------
def count_queries(client, url) -> int:
    # A fresh user object each time, so permission and role caches start empty as they do
    # on a real request.
    user = client.handler._force_user
    client.force_authenticate(type(user).objects.get(pk=user.pk))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.fixture
def api(supervisor):
    client = APIClient()
    client.force_authenticate(supervisor)
    return client


def test_ticket_list_uses_the_same_queries_for_5_and_50_tickets(api, team, agent):
    make_queue(team, agent, 5)
    small = count_queries(api, reverse("ticket-list") + "?page_size=100")

    make_queue(team, agent, 45)
    large = count_queries(api, reverse("ticket-list") + "?page_size=100")

    assert small == large


def test_ticket_detail_uses_the_same_queries_for_5_and_50_messages(api, team, agent):
    ticket = TicketFactory(team=team, assignee=agent, state="in_progress")
    url = reverse("ticket-detail", args=[ticket.number])

    def add_messages(count):
        for index in range(count):
            message = MessageFactory(ticket=ticket, body=f"消息 {index}")
            Attachment.objects.create(ticket=ticket, message=message, evidence_kind="photo",
                                      file="evidence/x.png", label="x.png",
                                      content_type="image/png", size=1, sha256="0" * 64)

    add_messages(5)
    small = count_queries(api, url)
    add_messages(45)
    large = count_queries(api, url)

    assert small == large


def test_history_uses_the_same_queries_for_few_and_many_changes(api, team, agent):
    ticket = TicketFactory(team=team, assignee=agent, state="in_progress")
    url = reverse("ticket-history", args=[ticket.number])
    services.ticket_change_priority(ticket=ticket, actor=agent, priority=1, reason="客户催促")
    small = count_queries(api, url)
    for priority in (0, 1, 2, 3, 2, 1):
        services.ticket_change_priority(ticket=ticket, actor=agent, priority=priority, reason="调整")
    large = count_queries(api, url)

    assert small == large
