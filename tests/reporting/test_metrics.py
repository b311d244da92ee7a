"""Dashboard metrics: each formula on a small data set whose answers are worked out by hand."""

import csv
import io
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from reporting import tasks
from reporting.models import DailyAgentMetrics, DailyRuleTotals
from reporting.services import metrics
from resolutions.models import Resolution, ResolutionState
from supervision.models.survey import Survey
from tests.factories import TicketFactory
from tickets.models import Category, TicketState

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 10)


def at(hour, minute=0, day=DAY):
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_current_timezone())


def answer(ticket, csat, nps, speed=3, attitude=3, expertise=3):
    return Survey.objects.create(ticket=ticket, sent_at=at(16), expires_at=at(16) + timedelta(7),
                                 answered_at=at(18), csat=csat, nps=nps, speed=speed,
                                 attitude=attitude, expertise=expertise)


def paid(ticket, rule, *, refund="0.00", compensation="0.00", coupon="0.00", kind="refund_only",
         state=ResolutionState.COMPLETED, completed=None):
    return Resolution.objects.create(
        ticket=ticket, kind=kind, state=state, rule_name=rule, refund_amount=Decimal(refund),
        compensation_amount=Decimal(compensation), coupon_amount=Decimal(coupon),
        completed_at=completed or at(17))


@pytest.fixture
def known_day(team, agent, other_agent):
    """Three tickets closed on DAY, one still open; three answers; three payouts.

    t1 (agent): 10 min to respond, 2 h to resolve, clean: first contact, SLA, archived.
    t2 (agent): 30 min, 4 h with 1 h waiting on the customer, reopened once, category
        "other", resolution breached.
    t3 (other_agent): 20 min, 2 h, no resolution summary, first response breached.
    """
    closed = {"team": team, "state": TicketState.CLOSED}
    t1 = TicketFactory(**closed, assignee=agent, created_at=at(8), first_response_at=at(8, 10),
                       resolved_at=at(10), closed_at=at(12), resolution_summary="已退款",
                       category=Category.QUALITY_DAMAGE)
    t2 = TicketFactory(**closed, assignee=agent, created_at=at(9), first_response_at=at(9, 30),
                       resolved_at=at(13), closed_at=at(14), paused_seconds=3600,
                       reopened_count=1, resolution_summary="已补发", category=Category.OTHER,
                       resolution_breached_at=at(12))
    t3 = TicketFactory(**closed, assignee=other_agent, created_at=at(9),
                       first_response_at=at(9, 20), resolved_at=at(11), closed_at=at(15),
                       category=Category.COUPON, first_response_breached_at=at(9, 15))
    TicketFactory(team=team, state=TicketState.IN_PROGRESS, assignee=agent, created_at=at(10))
    answer(t1, csat=5, nps=10, speed=5, attitude=4, expertise=5)
    answer(t2, csat=2, nps=3, speed=1, attitude=2, expertise=3)
    answer(t3, csat=4, nps=8, speed=4, attitude=4, expertise=4)
    paid(t1, "质量问题退款", refund="99.50")
    paid(t2, "延迟发货补偿", compensation="10.00", kind="compensation_cash")
    paid(t3, "质量问题退款", refund="20.00")
    paid(t3, "优惠券补偿", coupon="5.00", kind="compensation_coupon",
         state=ResolutionState.APPROVED)  # not paid yet: not counted
    metrics.metrics_rollup(start=DAY, end=DAY)
    return t1, t2, t3


def test_each_metric_matches_its_formula(known_day):
    figures = metrics.totals(start=DAY, end=DAY)

    assert figures.created == 4
    assert figures.frt_minutes == pytest.approx(20)  # (10 + 30 + 20) / 3
    assert figures.aht_hours == pytest.approx(7 / 3)  # (2 + (4 − 1) + 2) / 3
    assert figures.fcr_rate == pytest.approx(2 / 3)  # t1, t3
    assert figures.reopen_rate == pytest.approx(1 / 3)  # t2
    assert figures.sla_compliance == pytest.approx(1 / 3)  # only t1 breached nothing
    assert figures.archiving_rate == pytest.approx(1 / 3)  # only t1 has summary and category
    assert figures.csat_average == pytest.approx(11 / 3)
    assert figures.csat_rate == pytest.approx(2 / 3)  # 5 and 4
    assert figures.nps == pytest.approx(0)  # one promoter, one detractor, one passive
    assert (figures.speed_average, figures.attitude_average, figures.expertise_average) == \
        pytest.approx((10 / 3, 10 / 3, 4))


def test_rates_of_an_empty_period_are_none_not_zero(db):
    figures = metrics.totals(start=DAY, end=DAY)

    assert figures.closed == 0
    assert figures.fcr_rate is None
    assert figures.nps is None


def test_the_figures_are_kept_per_agent_and_team(known_day, agent, other_agent, team):
    mine = metrics.totals(start=DAY, end=DAY, agent_id=agent.pk)
    theirs = metrics.totals(start=DAY, end=DAY, agent_id=other_agent.pk)

    assert (mine.closed, mine.created, theirs.closed) == (2, 3, 1)
    assert metrics.totals(start=DAY, end=DAY, team_id=team.pk).closed == 3


def test_the_backlog_counts_open_tickets_by_team_and_state(known_day, team):
    backlog = metrics.backlog()

    assert backlog.total == 1
    assert backlog.counts == {(team.pk, TicketState.IN_PROGRESS): 1}
    assert backlog.teams == [(team.pk, team.name)]


def test_refunds_and_compensation_are_totalled_by_rule(known_day):
    rows = metrics.rule_totals(start=DAY, end=DAY)

    assert [(row.rule_name, row.resolutions, row.refund_total, row.compensation_total)
            for row in rows] == [("质量问题退款", 2, Decimal("119.50"), Decimal("0.00")),
                                 ("延迟发货补偿", 1, Decimal("0.00"), Decimal("10.00"))]


@pytest.mark.parametrize(("target", "agent_score", "other_score"),
                         [(30, 67.5, 85.0), (10, 52.5, 70.0)])
def test_the_agent_score_weighs_fcr_response_satisfaction_and_archiving(
        known_day, agent, other_agent, settings, target, agent_score, other_score):
    settings.METRICS_FRT_TARGET_MINUTES = target

    ranking = metrics.scorecard(month=DAY)

    # agent: FCR 1/2, FRT 20 min, CSAT (5+2)/2 → (3.5−1)/4, archiving 1/2
    # other: FCR 1, FRT 20 min, CSAT 4 → 0.75, archiving 0
    assert [(row.rank, row.agent_id, row.score) for row in ranking] == [
        (1, other_agent.pk, other_score), (2, agent.pk, agent_score)]


def test_an_agent_part_without_data_takes_the_months_value(known_day, agent):
    parts = metrics.score_parts(metrics.Totals(closed=1, first_contact_resolved=1),
                                fallback={"response": 0.5, "satisfaction": 0.25})

    assert parts == {"fcr": 1.0, "response": 0.5, "satisfaction": 0.25, "archiving": 0.0}


def test_weekly_and_daily_trends_sum_the_days(known_day):
    next_day = DAY + timedelta(days=1)
    TicketFactory(state=TicketState.CLOSED, created_at=at(8, day=next_day),
                  first_response_at=at(9, day=next_day), resolved_at=at(10, day=next_day),
                  closed_at=at(11, day=next_day))
    metrics.metrics_rollup(start=next_day, end=next_day)

    daily = metrics.trend(start=DAY, end=next_day, by="day")
    weekly = metrics.trend(start=DAY, end=next_day, by="week")

    assert [(day, figures.closed) for day, figures in daily] == [(DAY, 3), (next_day, 1)]
    assert [(week, figures.closed) for week, figures in weekly] == [(date(2026, 3, 9), 4)]
    assert weekly[0][1].frt_minutes == pytest.approx((60 + 60) / 4)


def test_rolling_up_a_day_again_replaces_its_rows(known_day):
    before = list(DailyAgentMetrics.objects.values_list("day", "agent", "closed", "surveys"))

    metrics.metrics_rollup(start=DAY, end=DAY)

    assert list(DailyAgentMetrics.objects.values_list("day", "agent", "closed", "surveys")) \
        == before
    assert DailyRuleTotals.objects.count() == 2


def test_the_local_day_decides_where_a_late_closing_counts(team, agent):
    # 23:30 in Shanghai is 15:30 UTC: it belongs to DAY, not to the next day.
    TicketFactory(team=team, assignee=agent, state=TicketState.CLOSED, created_at=at(22),
                  first_response_at=at(22, 5), resolved_at=at(23), closed_at=at(23, 30))

    metrics.metrics_rollup(start=DAY, end=DAY + timedelta(days=1))

    assert metrics.totals(start=DAY, end=DAY).closed == 1
    assert metrics.totals(start=DAY + timedelta(days=1), end=DAY + timedelta(days=1)).closed == 0


def test_the_rollup_task_covers_today_and_is_scheduled(team, agent):
    from django_q.models import Schedule

    now = timezone.now()
    TicketFactory(team=team, assignee=agent, state=TicketState.CLOSED, created_at=now,
                  first_response_at=now, resolved_at=now, closed_at=now)

    tasks.metrics_rollup_task()

    assert metrics.totals(start=timezone.localdate(), end=timezone.localdate()).closed == 1
    assert Schedule.objects.filter(name="Metrics roll-up",
                                   func="reporting.tasks.metrics_rollup_task").exists()


# --- pages and the monthly report ----------------------------------------------------------
MONTH = "2026-03"


def test_the_dashboard_shows_the_months_figures(client, supervisor, known_day):
    client.force_login(supervisor)

    response = client.get(reverse("dashboard"), {"month": MONTH})

    page = response.content.decode()
    assert response.status_code == 200
    kpis = response.context["kpis"]
    assert (kpis["frt"].value, kpis["fcr"], kpis["sla"], kpis["nps"]) == (20.0, 66.7, 33.3, 0.0)
    assert 'data-kpi="backlog">1<' in page
    assert "质量问题退款" in page
    assert "119.50" in page
    assert "vendor/chartjs/chart.umd.min.js" in page
    assert response.context["daily"]["closed"] == [3]
    assert [row.rank for row in response.context["ranking"]] == [1, 2]


def test_the_dashboard_takes_the_same_queries_for_more_data(
        client, supervisor, known_day, team, django_assert_max_num_queries):
    client.force_login(supervisor)
    client.get(reverse("dashboard"), {"month": MONTH})
    with django_assert_max_num_queries(20) as first:
        client.get(reverse("dashboard"), {"month": MONTH})
    for hour in range(8, 12):
        TicketFactory(team=team, state=TicketState.CLOSED, created_at=at(hour, day=DAY + timedelta(2)),
                      first_response_at=at(hour, 5, day=DAY + timedelta(2)),
                      resolved_at=at(hour, 30, day=DAY + timedelta(2)),
                      closed_at=at(hour, 40, day=DAY + timedelta(2)))
    metrics.metrics_rollup(start=DAY, end=DAY + timedelta(2))

    with django_assert_max_num_queries(len(first.captured_queries)):
        client.get(reverse("dashboard"), {"month": MONTH})


@pytest.mark.parametrize("role", ["supervisor", "qa"])
def test_supervisors_and_qa_open_the_dashboard_and_ranking(client, personas, role, known_day):
    client.force_login(personas[role])

    assert client.get(reverse("dashboard")).status_code == 200
    assert client.get(reverse("dashboard-scorecard"), {"month": MONTH}).status_code == 200


@pytest.mark.parametrize("role", ["agent", "senior_agent", "complaint_specialist"])
def test_agents_do_not_see_the_dashboard(client, personas, role):
    client.force_login(personas[role])

    assert client.get(reverse("dashboard")).status_code == 403
    assert client.get(reverse("dashboard-export")).status_code == 403


def test_the_ranking_page_lists_agents_by_score(client, supervisor, known_day, other_agent):
    client.force_login(supervisor)

    response = client.get(reverse("dashboard-scorecard"), {"month": MONTH})

    ranking = response.context["ranking"]
    assert ranking[0].agent_id == other_agent.pk
    assert f'data-agent="{other_agent.pk}"' in response.content.decode()
    first_responses = [str(frt) for _row, frt in response.context["ranking_rows"]
                       if frt is not None]
    assert first_responses == ["20.0 min", "20.0 min"]  # in the unit it reads best in
    assert "20.0 min" in response.content.decode()


def test_the_csv_report_holds_the_summary_ranking_and_payouts(client, supervisor, known_day,
                                                              agent, other_agent, settings):
    settings.LANGUAGE_CODE = "en"
    client.force_login(supervisor)

    response = client.get(reverse("dashboard-export"), {"month": MONTH, "format": "csv"})

    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="report-2026-03.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    summary = {row[0]: row[1] for row in rows[2:15]}
    assert summary["Month"] == "2026-03"
    assert summary["Tickets closed"] == "3"
    assert summary["First response time (minutes)"] == "20.0"
    assert summary["Average handling time (hours)"] == "2.33"
    assert summary["First-contact resolution (per cent)"] == "66.7"
    assert summary["Reopen rate (per cent)"] == "33.3"
    assert summary["CSAT (average of 1–5)"] == "3.67"
    assert summary["NPS"] == "0.0"
    ranking_at = rows.index(["Agent ranking"])
    assert rows[ranking_at + 2][:4] == ["1", other_agent.get_full_name() or other_agent.username,
                                        "85.0", "1"]
    payouts_at = rows.index(["Refunds and compensation by rule"])
    assert rows[payouts_at + 2] == ["质量问题退款", "refund_only", "2", "119.50", "0.00", "0.00"]


def test_the_xlsx_report_has_a_sheet_per_table(client, supervisor, known_day, settings):
    from openpyxl import load_workbook

    settings.LANGUAGE_CODE = "en"
    client.force_login(supervisor)

    response = client.get(reverse("dashboard-export"), {"month": MONTH, "format": "xlsx"})

    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Summary", "Agent ranking", "Refunds and compensation by rul"]
    summary = {row[0]: row[1] for row in workbook["Summary"].iter_rows(values_only=True)}
    assert summary["Tickets closed"] == 3
    assert summary["SLA compliance (per cent)"] == 33.3
    payouts = list(workbook.worksheets[2].iter_rows(values_only=True))
    assert payouts[1][:4] == ("质量问题退款", "refund_only", 2, 119.5)


# --- durations in units a person reads -------------------------------------------------------
@pytest.mark.parametrize(("minutes", "language", "shown"), [
    (44.5, "zh-hans", "44.5 分钟"),
    (89.0, "en", "89.0 min"),
    (90, "en", "1.5 h"),
    (2598.0, "zh-hans", "43.3 小时"),   # not "2598.0 分钟"
    (2598.0, "en", "43.3 h"),
    (48 * 60, "en", "2.0 days"),
    (10 * 24 * 60 + 720, "en", "10.5 days"),
])
def test_a_duration_is_shown_in_the_unit_it_reads_best_in(minutes, language, shown):
    from django.utils import translation

    from reporting.views import readable_duration

    with translation.override(language):
        assert str(readable_duration(minutes)) == shown


def test_no_duration_shows_nothing():
    from reporting.views import readable_duration

    assert readable_duration(None) is None


def test_a_chart_line_of_durations_takes_one_unit_from_its_largest_value(settings):
    from reporting.views import _in_one_unit

    settings.LANGUAGE_CODE = "en"
    values, unit = _in_one_unit([30.0, None, 2598.0])
    assert values == [0.5, None, 43.3]
    assert unit.name == "hours"
    assert _in_one_unit([None, None])[1].name == "minutes"


def test_the_dashboard_charts_name_their_duration_units(client, supervisor, known_day,
                                                       english_messages):
    client.force_login(supervisor)

    daily = client.get(reverse("dashboard"), {"month": MONTH}).context["daily"]

    assert daily["frt"] == [20.0]
    assert daily["frt_label"] == "First response (minutes)"
    assert daily["aht_label"] == "Handling (hours)"
    assert "nps" not in daily  # NPS (−100 to 100) is not drawn on the per-cent axis
