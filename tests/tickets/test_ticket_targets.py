"""A write that names another ticket (a merge target) checks that ticket by the same rules."""

import pytest
from django.urls import reverse

from core.services.exceptions import NotFound
from tests.factories import TicketFactory
from tickets import services
from tickets.models import CancelReason, ComplaintLevel, TicketState

pytestmark = pytest.mark.django_db

S = TicketState
HTMX = {"HTTP_HX_REQUEST": "true"}
MISSING = "CS20990101-999999"


@pytest.fixture
def own_duplicate(make_ticket):
    ticket = make_ticket(S.IN_PROGRESS)
    ticket.messages.create(kind="note", body="客户重复来电", author=ticket.assignee)
    return ticket


@pytest.fixture
def held_complaint(own_duplicate, escalation_teams, risk_officer):
    """A level-3 complaint of the same customer, with risk/legal: agents cannot read it."""
    return TicketFactory(customer=own_duplicate.customer, team=escalation_teams["risk_legal"],
                         assignee=risk_officer, state=S.IN_PROGRESS,
                         complaint_level=ComplaintLevel.L3)


def _cancel(api, ticket, into_number):
    return api.post(reverse("ticket-transitions", args=[ticket.number]),
                    {"name": "cancel", "reason": "duplicate", "merged_into": into_number},
                    format="json")


def test_a_ticket_one_cannot_read_is_no_merge_target(api, agent, own_duplicate, held_complaint):
    api.force_authenticate(agent)

    hidden = _cancel(api, own_duplicate, held_complaint.number)
    missing = _cancel(api, own_duplicate, MISSING)

    assert hidden.status_code == missing.status_code == 404
    assert hidden.content.replace(held_complaint.number.encode(), MISSING.encode()) == \
        missing.content
    own_duplicate.refresh_from_db()
    assert own_duplicate.state == S.IN_PROGRESS
    assert own_duplicate.messages.count() == 1
    assert not held_complaint.messages.exists()


def test_a_ticket_one_reads_but_may_not_work_is_a_forbidden_target(
    api, agent, other_agent, own_duplicate, make_ticket
):
    colleagues = make_ticket(S.IN_PROGRESS, customer=own_duplicate.customer, assignee=other_agent)
    api.force_authenticate(agent)

    response = _cancel(api, own_duplicate, colleagues.number)

    assert response.status_code == 403
    own_duplicate.refresh_from_db()
    assert own_duplicate.state == S.IN_PROGRESS
    assert not colleagues.messages.exists()


def test_a_workable_target_still_takes_the_duplicate(api, agent, own_duplicate, make_ticket):
    survivor = make_ticket(S.IN_PROGRESS, customer=own_duplicate.customer)
    api.force_authenticate(agent)

    response = _cancel(api, own_duplicate, survivor.number)

    assert response.status_code == 200, response.data
    assert survivor.messages.count() == 1


def test_an_unreadable_ticket_answers_like_a_missing_one(api, agent, held_complaint):
    api.force_authenticate(agent)

    hidden = api.get(reverse("ticket-detail", args=[held_complaint.number]))
    missing = api.get(reverse("ticket-detail", args=[MISSING]))

    assert hidden.status_code == missing.status_code == 404
    # The answer only echoes the number asked for.
    assert hidden.content.replace(held_complaint.number.encode(), MISSING.encode()) == \
        missing.content


def test_the_service_refuses_an_unreadable_target_like_a_missing_one(
    agent, own_duplicate, held_complaint
):
    with pytest.raises(NotFound) as refused:
        services.ticket_transition(ticket=own_duplicate, actor=agent, name="cancel",
                                   reason=CancelReason.DUPLICATE, merged_into=held_complaint)

    assert refused.value.message == f"No ticket {held_complaint.number} that you may read."
    assert refused.value.field == "merged_into"
    assert not held_complaint.messages.exists()


def test_the_console_refuses_unreadable_and_unworkable_targets(
    client, agent, other_agent, own_duplicate, held_complaint, make_ticket
):
    colleagues = make_ticket(S.IN_PROGRESS, customer=own_duplicate.customer, assignee=other_agent)
    client.force_login(agent)
    url = reverse("console-transition", args=[own_duplicate.number])

    hidden = client.post(url, {"name": "cancel", "reason": "duplicate",
                               "merged_into": held_complaint.number}, **HTMX)
    missing = client.post(url, {"name": "cancel", "reason": "duplicate",
                                "merged_into": MISSING}, **HTMX)
    forbidden = client.post(url, {"name": "cancel", "reason": "duplicate",
                                  "merged_into": colleagues.number}, **HTMX)

    assert f"No ticket {held_complaint.number} that you may read." in hidden.content.decode()
    assert f"No ticket {MISSING} that you may read." in missing.content.decode()
    assert forbidden.status_code == 403
    own_duplicate.refresh_from_db()
    assert own_duplicate.state == S.IN_PROGRESS
    assert not held_complaint.messages.exists()
    assert not colleagues.messages.exists()


def test_the_console_shows_an_unreadable_ticket_like_a_missing_one(client, agent, held_complaint):
    client.force_login(agent)

    hidden = client.get(reverse("console-ticket", args=[held_complaint.number]))
    missing = client.get(reverse("console-ticket", args=[MISSING]))

    assert hidden.status_code == missing.status_code == 404
    assert hidden.content.replace(held_complaint.number.encode(), MISSING.encode()) == \
        missing.content
