"""What each role may do with tickets, role by role."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from core.models.roles import Role
from tests.factories import TicketFactory
from tickets.models import Ticket, TicketState

# Written against English messages, as the ticket tests they came from.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]

WORKERS = {Role.AGENT, Role.SENIOR_AGENT, Role.COMPLAINT_SPECIALIST, Role.SUPERVISOR,
           Role.RISK_LEGAL}


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize("role", list(Role))
def test_who_may_open_tickets(personas, role):
    response = client_for(personas[role]).post(reverse("ticket-list"), {
        "channel": "phone", "subject": "电话咨询退款进度",
        "customer": {"external_id": "TB1", "name": "吴佳怡"},
    }, format="json")

    assert response.status_code == (201 if role in WORKERS else 403)


@pytest.mark.parametrize("role", list(Role))
def test_every_role_reads_tickets_and_their_history(personas, role):
    ticket = TicketFactory()  # no team yet: visible to everyone who reads tickets
    client = client_for(personas[role])

    assert client.get(reverse("ticket-detail", args=[ticket.number])).status_code == 200
    assert client.get(reverse("ticket-history", args=[ticket.number])).status_code == 200


@pytest.mark.parametrize("role", list(Role))
def test_who_may_claim_an_unrouted_ticket(personas, role):
    user = personas[role]
    ticket = TicketFactory()

    response = client_for(user).post(reverse("ticket-transitions", args=[ticket.number]),
                                     {"name": "assign", "assignee": user.username}, format="json")

    ticket.refresh_from_db()
    if role in WORKERS:
        assert response.status_code == 200, response.data
        assert (ticket.state, ticket.assignee) == (TicketState.ASSIGNED, user)
    else:
        assert response.status_code in (400, 403)
        assert (ticket.state, ticket.assignee) == (TicketState.NEW, None)


@pytest.mark.parametrize("role", list(Role))
def test_who_may_hand_a_team_ticket_to_a_colleague(personas, role, team, other_agent):
    user = personas[role]
    ticket = TicketFactory(team=team)

    response = client_for(user).post(reverse("ticket-transitions", args=[ticket.number]),
                                     {"name": "assign", "assignee": other_agent.username},
                                     format="json")

    # The senior agent is in the team; the complaint specialist is not and cannot even see it.
    allowed = role in (Role.SUPERVISOR, Role.SENIOR_AGENT)
    expected = 200 if allowed else 404 if role == Role.COMPLAINT_SPECIALIST else 403
    assert response.status_code == expected
    assert Ticket.objects.get(pk=ticket.pk).assignee == (other_agent if allowed else None)
