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


CHART_IDS = ["chart-daily-rates", "chart-daily-times", "chart-weekly-rates", "chart-weekly-times"]


@pytest.mark.parametrize("width", [1280, 900])
def test_the_dashboard_charts_are_sized_and_readable(page, live_server, supervisor, team, agent,
                                                     screenshot, width):
    """A month of slow first responses: charts fill their boxes, hours not minutes, 0–100 %."""
    today = timezone.localdate()
    for index in range(90):
        created = timezone.now() - timedelta(days=index % 45, hours=5)
        TicketFactory(team=team, assignee=agent, state=TicketState.CLOSED, created_at=created,
                      first_response_at=created + timedelta(hours=40 + index % 7),
                      resolved_at=created + timedelta(hours=60), closed_at=created + timedelta(hours=61),
                      resolution_summary="已处理", category=Category.QUALITY_DAMAGE)
    metrics.metrics_rollup(start=today - timedelta(days=50 + 7 * 12), end=today)

    log_in(page, live_server, supervisor.username)
    page.set_viewport_size({"width": width, "height": 900})
    # Last month: a full month of days on the daily chart's axis.
    last_month = today.replace(day=1) - timedelta(days=1)
    page.goto(f"{live_server.url}/dashboard/?month={last_month:%Y-%m}")
    page.wait_for_selector("#chart-weekly-times")
    page.wait_for_load_state("load")  # the charts are drawn by the page's last script
    sizes = page.evaluate("""ids => ids.map(id => {
        const box = document.getElementById(id).getBoundingClientRect();
        return [Math.round(box.width), Math.round(box.height)];
    })""", CHART_IDS)
    percent_axes = page.evaluate("""ids => ids.map(id => {
        const axis = Chart.getChart(id).scales.percent;
        return [axis.min, axis.max];
    })""", ["chart-daily-rates", "chart-weekly-rates"])
    frt_card = page.inner_text("[data-kpi=frt]")
    frt_axis = page.evaluate("Chart.getChart('chart-daily-times').options.scales.frt.title.text")
    path = screenshot(f"dashboard-{width}", full_page=True)

    for width_px, height_px in sizes:
        assert width_px >= 300, sizes   # not squashed into a few pixels
        assert height_px >= 180, sizes
    assert percent_axes == [[0, 100], [0, 100]]
    assert "小时" in frt_card  # about 43 hours, not 2598 minutes
    assert "分钟" not in frt_card
    # (English until the catalogue has the new axis titles.)
    assert "小时" in frt_axis or "(hours)" in frt_axis, frt_axis
    assert path.stat().st_size > 0
    assert page.js_errors == []
