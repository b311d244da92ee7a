"""The workspace's assign drop-down is never empty for a supervisor: a team nobody works in
offers every working agent, team members first, for the same fixed number of queries."""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import TicketFactory, UserFactory
from tickets import services
from tickets.models import Team, TicketState

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]


@pytest.fixture
def payment_ticket(db):
    return TicketFactory(team=Team.objects.get(code="payment"), state=TicketState.NEW)


def _options(page: str) -> str:
    start = page.index('name="assignee"')
    return page[start:page.index("</select>", start)]


def test_a_team_nobody_works_in_offers_every_working_agent(client, supervisor, agent,
                                                           qa_inspector, payment_ticket):
    client.force_login(supervisor)

    options = _options(client.get(reverse("console-ticket",
                                          args=[payment_ticket.number])).content.decode())

    assert f'value="{agent.pk}"' in options
    assert f'value="{supervisor.pk}"' in options
    assert f'value="{qa_inspector.pk}"' not in options  # QA works no tickets


def test_the_supervisor_assigns_an_agent_outside_that_team(client, supervisor, agent,
                                                           payment_ticket):
    client.force_login(supervisor)

    client.post(reverse("console-transition", args=[payment_ticket.number]),
                {"name": "assign", "assignee": agent.pk})

    payment_ticket.refresh_from_db()
    assert payment_ticket.assignee == agent
    assert payment_ticket.team.code == "payment"


def test_a_staffed_team_still_offers_only_its_members(client, supervisor, agent,
                                                      complaint_specialist, team):
    ticket = TicketFactory(team=team, state=TicketState.NEW)
    client.force_login(supervisor)

    options = _options(client.get(reverse("console-ticket", args=[ticket.number]))
                       .content.decode())

    assert f'value="{agent.pk}"' in options
    assert f'value="{complaint_specialist.pk}"' not in options


def test_a_member_who_works_no_tickets_leaves_the_team_to_everyone(supervisor, agent,
                                                                    other_agent, payment_ticket):
    from routing.selectors import assignee_choices

    qa_member = UserFactory(username="aaa_qa")
    qa_member.groups.add(Group.objects.get(name="qa"))
    payment_ticket.team.members.add(qa_member)
    assert set(assignee_choices(team_id=payment_ticket.team_id)) >= {agent, other_agent}

    payment_ticket.team.members.add(other_agent)  # now somebody works in it

    assert list(assignee_choices(team_id=payment_ticket.team_id)) == [other_agent]
    with pytest.raises(ValidationError):
        services.ticket_assign(ticket=payment_ticket, actor=supervisor, assignee=agent)


def test_the_drop_down_costs_the_same_however_many_agents(client, supervisor, payment_ticket):
    def count():
        client.get(reverse("console-ticket", args=[payment_ticket.number]))  # warm
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("console-ticket", args=[payment_ticket.number]))
        return len(queries)

    client.force_login(supervisor)
    few = count()
    for n in range(15):
        UserFactory(username=f"agent_{n}").groups.add(Group.objects.get(name="agent"))

    assert count() == few
