"""Ticket admin: transitions through the services, history kept, nothing edited around them."""

import pytest
from django.urls import reverse

from tickets.models import TicketState

pytestmark = pytest.mark.django_db


def test_supervisor_sees_only_the_transitions_allowed_now(client, supervisor, make_ticket):
    ticket = make_ticket(TicketState.IN_PROGRESS)
    client.force_login(supervisor)

    page = client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).content.decode()

    assert 'name="name" value="resolve"' in page
    assert 'name="name" value="close"' not in page


def test_a_transition_button_goes_through_the_service(client, supervisor, make_ticket):
    ticket = make_ticket(TicketState.IN_PROGRESS)
    client.force_login(supervisor)

    client.post(reverse("admin:tickets_ticket_transition", args=[ticket.pk]),
                {"name": "resolve", "summary": "已补发", "comment": "后台处理"})

    ticket.refresh_from_db()
    assert ticket.state == TicketState.RESOLVED
    latest = ticket.history.latest()
    assert latest.history_user == supervisor
    assert latest.history_change_reason == "transition:resolve — 后台处理"


def test_a_refused_transition_shows_the_reason_and_changes_nothing(client, supervisor, make_ticket):
    ticket = make_ticket(TicketState.NEW)
    client.force_login(supervisor)

    response = client.post(reverse("admin:tickets_ticket_transition", args=[ticket.pk]),
                           {"name": "close"}, follow=True, HTTP_ACCEPT_LANGUAGE="en")

    ticket.refresh_from_db()
    assert ticket.state == TicketState.NEW
    assert "not possible" in response.content.decode()


def test_editing_a_subject_in_admin_is_recorded(client, supervisor, make_ticket):
    ticket = make_ticket(TicketState.IN_PROGRESS)
    client.force_login(supervisor)
    url = reverse("admin:tickets_ticket_change", args=[ticket.pk])

    response = client.post(url, {
        "subject": "耳机左耳无声（已核实）", "description": ticket.description,
        "category": ticket.category, "ticket_type": ticket.ticket_type,
        **{f"{prefix}-{key}": value for prefix in ("messages", "attachments", "resolutions")
           for key, value in {"TOTAL_FORMS": 0, "INITIAL_FORMS": 0}.items()},
    })

    assert response.status_code == 302, response.content.decode()[:2000]
    ticket.refresh_from_db()
    assert ticket.subject == "耳机左耳无声（已核实）"
    latest = ticket.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (supervisor, "admin:edit")
    assert latest.state == TicketState.IN_PROGRESS


def test_tickets_cannot_be_added_or_deleted_in_admin(client, supervisor, make_ticket):
    ticket = make_ticket()
    client.force_login(supervisor)

    assert client.get(reverse("admin:tickets_ticket_add")).status_code == 403
    assert client.get(reverse("admin:tickets_ticket_delete", args=[ticket.pk])).status_code == 403


def test_history_cannot_be_reverted_from_admin(client, supervisor, make_ticket):
    ticket = make_ticket()
    record = ticket.history.first()
    client.force_login(supervisor)

    url = reverse("admin:tickets_ticket_simple_history", args=[ticket.pk, record.history_id])
    response = client.post(url, {"subject": "篡改"})

    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.subject != "篡改"


def test_qa_reads_tickets_in_admin_but_gets_no_transitions(client, qa_inspector, make_ticket):
    ticket = make_ticket(TicketState.IN_PROGRESS)
    client.force_login(qa_inspector)

    response = client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk]))

    assert response.status_code == 200
    assert 'name="name" value="resolve"' not in response.content.decode()
    client.post(reverse("admin:tickets_ticket_transition", args=[ticket.pk]),
                {"name": "resolve", "summary": "x"})
    ticket.refresh_from_db()
    assert ticket.state == TicketState.IN_PROGRESS
