"""No rule routes to a team nobody works in: the admin refuses such a rule, and at run time a
ticket routed to a team without an available member goes to the default team, the history
says so and the supervisors are told once a day per team."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from notifications.models import OutboxChannel, OutboxMessage
from routing.models import AgentProfile, RoutingRule
from tests.factories import CustomerFactory
from tickets import services
from tickets.models import Team

pytestmark = pytest.mark.django_db


def create(actor, subject):
    return services.ticket_create(actor=actor, channel="app", customer=CustomerFactory(),
                                  subject=subject)


@pytest.fixture
def payment():
    return Team.objects.get(code="payment")


def test_a_rule_naming_a_team_nobody_works_in_is_refused(payment):
    rule = RoutingRule(name="发票 → 支付组", order=1, keywords="发票", team=payment)

    with pytest.raises(ValidationError) as refused:
        rule.full_clean()

    assert "Nobody works in the team 支付退款组" in str(refused.value.message_dict["team"])


def test_an_inactive_rule_may_name_it_and_an_agent_makes_the_rule_valid(payment, agent,
                                                                        qa_inspector):
    RoutingRule(name="停用", order=1, keywords="发票", team=payment, is_active=False).full_clean()
    payment.members.add(qa_inspector)  # QA works no tickets
    with pytest.raises(ValidationError):
        RoutingRule(name="发票", order=1, keywords="发票", team=payment).full_clean()

    payment.members.add(agent)

    RoutingRule(name="发票", order=1, keywords="发票", team=payment).full_clean()


def test_the_admin_says_why_it_refuses_the_rule(client, supervisor, payment):
    client.force_login(supervisor)

    response = client.post(reverse("admin:routing_routingrule_add"), {
        "name": "发票 → 支付组", "order": 1, "is_active": "on", "keywords": "发票",
        "team": payment.pk})

    assert response.status_code == 200
    assert "Nobody works in the team 支付退款组" in response.content.decode()
    assert not RoutingRule.objects.filter(name="发票 → 支付组").exists()


def test_a_ticket_routed_to_a_team_nobody_works_in_goes_to_the_default_team(
        agent, team, supervisor):
    ticket = create(agent, "退款一直没有到账")

    assert ticket.team == team  # after-sales, the default team
    assert ticket.assignee in (*team.members.all(),)
    assert ticket.category == "refund_not_arrived"  # the rule's category is kept
    reason = ticket.history.earliest().history_change_reason
    assert "nobody available in 支付退款组, sent to 售后组" in reason
    told = OutboxMessage.objects.get(recipient_user=supervisor)
    assert told.channel == OutboxChannel.INTERNAL
    assert told.template == "routing.team_unstaffed"
    assert "支付退款组" in told.subject


def test_supervisors_are_told_once_a_day_per_team_not_per_ticket(agent, team, supervisor):
    for _ in range(3):
        create(agent, "退款一直没有到账")
    create(agent, "快递三天没更新，物流滞留")  # another team nobody works in

    told = OutboxMessage.objects.filter(template="routing.team_unstaffed")
    assert told.count() == 2
    assert {message.recipient_user for message in told} == {supervisor}


def test_members_off_duty_count_as_nobody_but_a_full_member_keeps_the_team(
        agent, other_agent, team, payment):
    payment.members.add(other_agent)
    AgentProfile.objects.create(user=other_agent, skills=["payment"], capacity=0)

    assert create(agent, "退款一直没有到账").team == payment  # full: waits in the queue

    AgentProfile.objects.filter(user=other_agent).update(is_available=False)

    assert create(agent, "退款一直没有到账").team == team


def test_when_the_default_team_has_nobody_either_the_ticket_waits_there(agent, supervisor):
    ticket = create(agent, "请问发票怎么开")

    assert ticket.team.code == "after_sales"
    assert ticket.assignee is None
    assert "nobody available in 售后组" in ticket.history.earliest().history_change_reason
    assert OutboxMessage.objects.get().template == "routing.default_team_unstaffed"
