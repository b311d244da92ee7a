"""Phone intake keeps the ticket with the agent on the call when they may work it; otherwise
it asks them, before saving anything, to hand it to the team routing picks, by name; and
after saving, the agent never lands on a page that refuses them."""

import pytest
from django.urls import reverse

from routing.models import AgentProfile
from shop.models import Customer
from tests.factories import CustomerFactory, UserFactory
from tickets.models import Team, Ticket

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]


@pytest.fixture
def quality(senior_agent):
    """The quality team, worked by the senior agent (who has the skill)."""
    team = Team.objects.get(code="quality")
    team.members.add(senior_agent)
    AgentProfile.objects.create(user=senior_agent, skills=["quality", "after_sales"])
    return team


def refund_call(client, **extra):
    """A caller who wants a refund ("退款" in the text) for a faulty item: a quality reason."""
    return client.post(reverse("console-new-ticket"), {
        "customer": CustomerFactory().pk, "ticket_type": "consultation",
        "subject": "耳机坏了，要求退款", "request_reason": "quality_defect", **extra})


def test_an_agent_who_may_work_the_category_keeps_the_ticket(client, senior_agent, quality,
                                                             team):
    client.force_login(senior_agent)

    response = refund_call(client)

    ticket = Ticket.objects.get()
    assert response["Location"] == reverse("console-ticket", args=[ticket.number])
    assert (ticket.team, ticket.assignee) == (quality, senior_agent)
    taken = ticket.history.latest()
    assert (taken.history_user, taken.history_change_reason) == (
        senior_agent, "transition:assign — intake")
    assert client.get(response["Location"]).status_code == 200


def test_an_agent_outside_the_team_is_asked_first_and_nothing_is_saved(client, agent, quality,
                                                                       team):
    client.force_login(agent)
    customers = Customer.objects.count()

    response = client.post(reverse("console-new-ticket"), {
        "external_id": "TEL-0100", "name": "王女士", "phone": "13900001111",
        "ticket_type": "consultation", "subject": "耳机坏了，要求退款",
        "request_reason": "quality_defect"})

    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="hand-over"' in page
    assert "This request is for 质量组" in page
    assert 'name="hand_over" value="quality"' in page
    assert not Ticket.objects.exists()
    assert Customer.objects.count() == customers  # not even the new caller


def test_confirming_hands_it_to_that_team_and_says_where_it_went(client, agent, quality,
                                                                 team):
    client.force_login(agent)

    response = refund_call(client, hand_over="quality")

    ticket = Ticket.objects.get()
    assert (ticket.team, ticket.assignee) == (quality, quality.members.get())
    assert response["Location"] == reverse("console-new-ticket")
    landed = client.get(response["Location"])
    assert landed.status_code == 200
    assert f"Ticket {ticket.number} opened and handed to 质量组" in landed.content.decode()
    # The agent could not have read it: the workspace would have refused them.
    assert client.get(reverse("console-ticket", args=[ticket.number])).status_code == 404


def test_a_confirmation_for_another_team_asks_again(client, agent, quality, team):
    client.force_login(agent)

    response = refund_call(client, hand_over="logistics")

    assert 'name="hand_over" value="quality"' in response.content.decode()
    assert not Ticket.objects.exists()


def test_a_team_member_without_the_rules_skill_is_asked_too(client, agent, quality, team):
    quality.members.add(agent)
    AgentProfile.objects.create(user=agent, skills=["after_sales"])
    client.force_login(agent)

    response = refund_call(client)

    assert 'data-testid="hand-over"' in response.content.decode()
    assert not Ticket.objects.exists()


def test_a_team_nobody_works_in_falls_back_and_the_agent_keeps_it(client, agent, team):
    client.force_login(agent)

    # "退款" goes to the payment team, which nobody works in: the default team takes it.
    response = client.post(reverse("console-new-ticket"), {
        "customer": CustomerFactory().pk, "ticket_type": "consultation",
        "subject": "退款还没到账"})

    ticket = Ticket.objects.get()
    assert response["Location"] == reverse("console-ticket", args=[ticket.number])
    assert (ticket.team, ticket.assignee) == (team, agent)


def test_a_supervisor_on_the_phone_keeps_any_ticket(client, supervisor, quality, team):
    client.force_login(supervisor)

    refund_call(client)

    assert Ticket.objects.get().assignee == supervisor


def test_another_working_role_in_the_team_keeps_it_without_a_profile(client, team):
    from django.contrib.auth.models import Group

    specialist = UserFactory(username="cs_zhang")
    specialist.groups.add(Group.objects.get(name="complaint_specialist"))
    team.members.add(specialist)
    client.force_login(specialist)

    client.post(reverse("console-new-ticket"), {
        "customer": CustomerFactory().pk, "ticket_type": "consultation",
        "subject": "会员积分怎么用"})

    assert Ticket.objects.get().assignee == specialist
