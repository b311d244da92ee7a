"""The supervisor's dashboard draws its charts; a QA inspector scores a low-rated ticket."""

from datetime import timedelta

import pytest
from django.utils import timezone

from reporting.services import metrics
from supervision.models.qa import QaReview, QaState
from supervision.models.survey import Survey
from supervision.services import surveys
from tests.e2e.test_login_and_home import log_in
from tests.factories import TicketFactory
from tickets.models import Category, TicketState

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_dashboard_draws_its_trend_charts(page, live_server, supervisor, team, agent,
                                              other_agent, screenshot):
    today = timezone.localdate()
    first = today.replace(day=1)
    for index in range(24):
        created = timezone.now() - timedelta(days=index % max(today.day, 1), hours=5)
        TicketFactory(team=team, assignee=agent if index % 3 else other_agent,
                      state=TicketState.CLOSED, created_at=created,
                      first_response_at=created + timedelta(minutes=10 + index * 3),
                      resolved_at=created + timedelta(hours=2), closed_at=created + timedelta(hours=3),
                      reopened_count=1 if index % 7 == 0 else 0, resolution_summary="已处理",
                      category=Category.QUALITY_DAMAGE)
    TicketFactory(team=team, state=TicketState.NEW)
    metrics.metrics_rollup(start=first - timedelta(weeks=12), end=today)

    log_in(page, live_server, supervisor.username)
    page.click("[data-nav=dashboard]")
    page.wait_for_selector("#chart-daily-rates")
    drawn = page.evaluate("['chart-daily-rates', 'chart-daily-times', 'chart-weekly-rates', "
                          "'chart-weekly-times'].map(id => !!Chart.getChart(id))")
    screenshot("dashboard", full_page=True)

    assert drawn == [True, True, True, True]
    assert page.locator("#top-agents tbody tr").count() == 2
    assert page.js_errors == []
    page.goto(f"{live_server.url}/dashboard/ranking/")
    page.wait_for_selector("#ranking")
    screenshot("ranking")


def test_a_qa_inspector_scores_a_low_rated_ticket(page, live_server, qa_inspector, make_ticket,
                                                  screenshot):
    ticket = make_ticket(TicketState.CLOSED, closed_at=timezone.now(), resolution_summary="已退款")
    survey = Survey.objects.create(ticket=ticket, expires_at=timezone.now() + timedelta(days=7))
    surveys.survey_answer(survey=survey, csat=2, speed=2, attitude=1, expertise=3, nps=2,
                          comment="客服态度不好")
    review = QaReview.objects.get(ticket=ticket)

    log_in(page, live_server, qa_inspector.username)
    page.click("[data-nav=qa]")
    page.click(f"[data-review='{review.pk}'] a")
    page.wait_for_selector("#qa-review-form")
    for field, score in [("attitude", 2), ("accuracy", 4), ("policy_compliance", 5),
                         ("archiving", 4)]:
        page.click(f"label[for=id_{field}_{score - 1}]")
    page.fill("#id_findings", "未使用道歉话术")
    screenshot("qa-review", full_page=True)
    page.click("#qa-review-form button[type=submit]")

    page.wait_for_selector("[data-testid=no-reviews]")
    review.refresh_from_db()
    assert (review.state, review.attitude, review.findings) == (QaState.COMPLETED, 2,
                                                                "未使用道歉话术")
    assert page.js_errors == []
