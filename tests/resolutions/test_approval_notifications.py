"""Whoever may approve is told (issue 17, point 3): a resolution that starts waiting for approval
and a policy change set submitted for approval each notify their approvers in the console, with a
link to the item."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from core.models.roles import Role
from notifications.models import OutboxChannel, OutboxMessage
from policies.models import ApprovalLimit
from policies.services import changesets
from resolutions.models import ResolutionState
from resolutions.services import resolution_accept
from tests.factories import TeamFactory, UserFactory
from tests.resolutions.money import order_with_items, ready_resolution, ticket_about

pytestmark = pytest.mark.django_db
RS = ResolutionState


def told(template="resolution.awaiting_approval") -> set[str]:
    return {message.recipient_user.username for message in
            OutboxMessage.objects.filter(template=template).select_related("recipient_user")}


def person(username: str, role: str, *, team=None, **extra):
    user = UserFactory(username=username, **extra)
    user.groups.add(Group.objects.get(name=role))
    if team is not None:
        team.members.add(user)
    return user


def proposed(make_ticket, *, refund: str, role: str, proposer):
    _order, (item,) = order_with_items("50000.00")
    return ready_resolution(ticket_about(make_ticket, item), refund=refund, approval_role=role,
                            state=RS.PROPOSED, proposed_by=proposer)


def test_agreeing_to_a_resolution_that_needs_approval_tells_its_approvers(
    make_ticket, agent, team, senior_agent, supervisor, risk_officer, approval_limits
):
    person("senior_elsewhere", Role.SENIOR_AGENT, team=TeamFactory(code="elsewhere"))
    person("senior_away", Role.SENIOR_AGENT, team=team, is_active=False)
    person("qa_wu", Role.QA, is_staff=True)
    resolution = proposed(make_ticket, refund="1500.00", role=Role.SENIOR_AGENT, proposer=agent)

    resolution_accept(resolution=resolution, actor=agent)

    # The team's senior agent (limit 2000), every supervisor and risk/legal; not the proposer,
    # nor a senior agent of another team (they cannot open the ticket), nor someone inactive.
    assert told() == {senior_agent.username, supervisor.username, risk_officer.username}
    message = OutboxMessage.objects.filter(template="resolution.awaiting_approval",
                                           recipient_user=supervisor).get()
    assert message.channel == OutboxChannel.INTERNAL
    assert message.ticket == resolution.ticket
    assert message.subject == (f"Ticket {resolution.ticket.number}: a resolution waits for "
                               "your approval")
    assert "¥1500.00" in message.body
    assert str(agent) in message.body


def test_only_approvers_whose_limit_covers_the_amount_are_told(
    make_ticket, agent, team, senior_agent, supervisor, risk_officer, approval_limits
):
    resolution = proposed(make_ticket, refund="3000.00", role=Role.SENIOR_AGENT, proposer=agent)

    resolution_accept(resolution=resolution, actor=agent)

    assert told() == {supervisor.username, risk_officer.username}


def test_what_is_reserved_to_risk_and_legal_is_told_to_them_only(
    make_ticket, agent, supervisor, risk_officer, approval_limits
):
    resolution = proposed(make_ticket, refund="10.00", role=Role.RISK_LEGAL, proposer=agent)

    resolution_accept(resolution=resolution, actor=agent)

    assert told() == {risk_officer.username}


def test_a_resolution_within_policy_tells_nobody(make_ticket, agent, supervisor,
                                                 approval_limits):
    resolution = proposed(make_ticket, refund="10.00", role="", proposer=agent)

    resolution_accept(resolution=resolution, actor=agent)

    assert told() == set()


def test_the_notification_links_to_the_ticket(client, make_ticket, agent, supervisor,
                                              approval_limits):
    resolution = proposed(make_ticket, refund="800.00", role=Role.SUPERVISOR, proposer=agent)
    resolution_accept(resolution=resolution, actor=agent)
    client.force_login(supervisor)

    page = client.get(reverse("notification-list")).content.decode()

    ticket_url = reverse("console-ticket", args=[resolution.ticket.number])
    assert f'<a href="{ticket_url}" data-testid="notification-link">' in page


# --- policy change sets ------------------------------------------------------------------------
def test_submitting_a_change_set_tells_who_may_approve_it(client, supervisor, risk_officer,
                                                          agent, approval_limits):
    other = person("supervisor_sun", Role.SUPERVISOR, is_staff=True)
    limit = ApprovalLimit.objects.get(role=Role.AGENT)
    item = changesets.propose_limit(actor=supervisor, limit=limit,
                                    values={"max_amount": Decimal("600")})
    change_set = changesets.submit(actor=supervisor, change_set=item.change_set,
                                   title="Agents: 600")

    assert told("policies.change_set_submitted") == {other.username, risk_officer.username}
    message = OutboxMessage.objects.get(template="policies.change_set_submitted",
                                        recipient_user=other)
    link = reverse("admin:policies_policychangeset_change", args=[change_set.pk])
    assert message.context["link"] == link

    client.force_login(other)
    page = client.get(reverse("notification-list")).content.decode()
    assert f'<a href="{link}" data-testid="notification-link">' in page
