"""The SLA reminder reaches the agent's notifications; the customer answers the survey."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sla.services import sweeps
from supervision.models.survey import Survey
from tests.e2e.test_login_and_home import log_in
from tests.factories import CustomerFactory, TicketFactory
from tickets import services
from tickets.models import TicketState

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_overdue_ticket_shows_up_in_the_agents_notifications(page, live_server, agent, team,
                                                                screenshot):
    start = timezone.now() - timedelta(hours=3)
    TicketFactory(team=team, assignee=agent, state=TicketState.ASSIGNED, created_at=start,
                  first_response_due_at=start + timedelta(hours=2), subject="耳机左耳没有声音")
    sweeps.remind_first_response(now=timezone.now())

    log_in(page, live_server, agent.username)
    assert page.locator("[data-testid=unread-notifications]").inner_text() == "1"
    page.click("[data-nav=notifications]")
    page.wait_for_selector("#notifications [data-unread='1']")
    screenshot("notifications")

    page.click("[data-testid=mark-all-read]")
    page.wait_for_selector("#notifications [data-unread='0']")
    assert page.locator("[data-testid=unread-notifications]").count() == 0
    assert page.js_errors == []


def test_a_customer_rates_a_closed_ticket(page, live_server, make_ticket, agent, screenshot):
    ticket = make_ticket(TicketState.RESOLVED, resolved_at=timezone.now(),
                         customer=CustomerFactory(phone="13812345678"))
    services.ticket_transition(ticket=ticket, actor=agent, name="close")
    survey = Survey.objects.get(ticket=ticket)

    page.goto(f"{live_server.url}/survey/{survey.token}/")
    for field, score in [("csat", 5), ("speed", 4), ("attitude", 5), ("expertise", 4),
                         ("nps", 10)]:
        page.click(f"label[for=id_{field}_{score if field == 'nps' else score - 1}]")
    page.fill("#id_comment", "处理及时，态度很好")
    screenshot("survey")
    page.click("#survey-form button[type=submit]")

    page.wait_for_selector("[data-testid=survey-result]")
    survey.refresh_from_db()
    assert (survey.csat, survey.nps) == (5, 10)
    assert page.js_errors == []
