"""The list and detail endpoints cost the same number of queries whatever the data size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from tests.factories import MessageFactory, TicketFactory
from tickets.models import Attachment, Tag

pytestmark = pytest.mark.django_db


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


def make_tickets(team, agent, count):
    tag = Tag.objects.get_or_create(name="加急")[0]
    for _ in range(count):
        ticket = TicketFactory(team=team, assignee=agent, state="in_progress")
        ticket.tags.add(tag)


def test_ticket_list_uses_the_same_queries_for_5_and_50_tickets(api, team, agent):
    make_tickets(team, agent, 5)
    small = count_queries(api, reverse("ticket-list") + "?page_size=100")

    make_tickets(team, agent, 45)
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
    from tickets import services

    ticket = TicketFactory(team=team, assignee=agent, state="in_progress")
    url = reverse("ticket-history", args=[ticket.number])
    services.ticket_change_priority(ticket=ticket, actor=agent, priority=1, reason="客户催促")
    small = count_queries(api, url)
    for priority in (0, 1, 2, 3, 2, 1):
        services.ticket_change_priority(ticket=ticket, actor=agent, priority=priority, reason="调整")
    large = count_queries(api, url)

    assert small == large
