"""The supervisor dashboard, the monthly agent ranking and the monthly report downloads.

Each page only reads, and may be a few seconds old: the read replica serves them when it is
fit (core.db), the primary otherwise.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core.db.scope import reads_from_replica
from reporting import selectors as reports
from reporting.services import metrics

TREND_WEEKS = 12
TOP_AGENTS = 10
FORMATS = {
    "csv": ("text/csv; charset=utf-8", reports.report_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             reports.report_xlsx),
}


def _month(request) -> date:
    """Return the first day of the month asked for (?month=YYYY-MM), this month otherwise."""
    value = request.GET.get("month", "")
    try:
        year, month = (int(part) for part in value.split("-"))
        return date(year, month, 1)
    except ValueError:
        return timezone.localdate().replace(day=1)


def _percent(value):
    return None if value is None else round(value * 100, 1)


def _rounded(value, places=1):
    return None if value is None else round(value, places)


@dataclass(frozen=True)
class TimeUnit:
    """A unit durations are shown in: its length in minutes, its short and long names."""

    minutes: int
    short: str
    name: str


def _time_units() -> list[TimeUnit]:
    return [TimeUnit(1, _("min"), _("minutes")), TimeUnit(60, _("h"), _("hours")),
            TimeUnit(24 * 60, _("days"), _("days"))]


def time_unit_for(minutes: float | None) -> TimeUnit:
    """Return the unit a duration reads best in: minutes up to 90, hours up to two days,
    days beyond ("43.3 h", not "2598.0 min")."""
    units = _time_units()
    if minutes is None or minutes < 90:
        return units[0]
    return units[1] if minutes < 48 * 60 else units[2]


@dataclass(frozen=True)
class Duration:
    value: float
    unit: str

    def __str__(self) -> str:
        return f"{self.value} {self.unit}"


def readable_duration(minutes: float | None) -> Duration | None:
    """Return the duration rounded in the unit it reads best in, or None without one."""
    if minutes is None:
        return None
    unit = time_unit_for(minutes)
    return Duration(round(minutes / unit.minutes, 1), unit.short)


def _in_one_unit(minutes: list[float | None]) -> tuple[list[float | None], TimeUnit]:
    """Return a chart line in the unit its largest value reads best in (one axis, one unit)."""
    unit = time_unit_for(max((value for value in minutes if value is not None), default=None))
    return [None if value is None else round(value / unit.minutes, 2) for value in minutes], unit


def _series(points: list[tuple[date, metrics.Totals]]) -> dict:
    """Chart data: labels, one list per measure, and the unit each duration line is in.

    NPS runs from −100 to 100 and is no percentage: it stays off the per-cent axis (its
    month's figure is on the dashboard's cards).
    """
    frt, frt_unit = _in_one_unit([figures.frt_minutes for _when, figures in points])
    aht, aht_unit = _in_one_unit([None if figures.aht_hours is None else figures.aht_hours * 60
                                  for _when, figures in points])
    return {
        "labels": [f"{when:%m-%d}" for when, _figures in points],
        "created": [figures.created for _when, figures in points],
        "closed": [figures.closed for _when, figures in points],
        "fcr": [_percent(figures.fcr_rate) for _when, figures in points],
        "sla": [_percent(figures.sla_compliance) for _when, figures in points],
        "csat": [_percent(figures.csat_rate) for _when, figures in points],
        "reopen": [_percent(figures.reopen_rate) for _when, figures in points],
        "frt": frt,
        "aht": aht,
        "frt_label": _("First response (%(unit)s)") % {"unit": frt_unit.name},
        "aht_label": _("Handling (%(unit)s)") % {"unit": aht_unit.name},
    }


def _chart_labels() -> dict:
    return {
        "created": _("Created"), "closed": _("Closed"),
        "fcr": _("First-contact resolution (per cent)"),
        "sla": _("SLA compliance (per cent)"), "csat": _("Satisfied (per cent)"),
        "count": _("Tickets"), "percent": _("Per cent"),
    }


def _month_nav(month: date) -> dict:
    previous = (month - timedelta(days=1)).replace(day=1)
    following = (month + timedelta(days=32)).replace(day=1)
    this_month = timezone.localdate().replace(day=1)
    return {"month": month, "previous_month": previous,
            "next_month": following if following <= this_month else None}


@require_GET
@permission_required("reporting.view_dailyagentmetrics", raise_exception=True)
@reads_from_replica
def dashboard(request):
    """Show the month's figures, daily and weekly trends, the backlog and payouts by rule."""
    month = _month(request)
    start, end = metrics.month_bounds(month)
    week_start = end - timedelta(days=end.weekday()) - timedelta(weeks=TREND_WEEKS - 1)
    figures = metrics.totals(start=start, end=end)
    return render(request, "reporting/dashboard.html", {
        **_month_nav(month),
        "figures": figures,
        "kpis": {
            "frt": readable_duration(figures.frt_minutes),
            "aht": readable_duration(None if figures.aht_hours is None
                                     else figures.aht_hours * 60),
            "fcr": _percent(figures.fcr_rate), "reopen": _percent(figures.reopen_rate),
            "sla": _percent(figures.sla_compliance), "csat": _rounded(figures.csat_average, 2),
            "csat_rate": _percent(figures.csat_rate), "nps": _rounded(figures.nps),
            "archiving": _percent(figures.archiving_rate),
        },
        "daily": _series(metrics.trend(start=start, end=end, by="day")),
        "weekly": _series(metrics.trend(start=week_start, end=end, by="week")),
        "backlog": metrics.backlog(),
        "rules": metrics.rule_totals(start=start, end=end),
        "ranking": metrics.scorecard(month=month)[:TOP_AGENTS],
        "chart_labels": _chart_labels(),
        "nav_active": "dashboard",
    })


@require_GET
@permission_required("reporting.view_dailyagentmetrics", raise_exception=True)
@reads_from_replica
def scorecard(request):
    """Show every agent's score for the month, ranked (the "service star" ranking)."""
    month = _month(request)
    ranking = metrics.scorecard(month=month)
    return render(request, "reporting/scorecard.html", {
        **_month_nav(month),
        "ranking": ranking,
        # Each agent's first response time in the unit it reads best in.
        "ranking_rows": [(row, readable_duration(row.figures.frt_minutes)) for row in ranking],
        "weights": metrics.SCORE_WEIGHTS,
        "nav_active": "dashboard",
    })


@require_GET
@permission_required("reporting.view_dailyagentmetrics", raise_exception=True)
@reads_from_replica
def export(request):
    """Download the monthly report as CSV or XLSX."""
    month = _month(request)
    kind = request.GET.get("format", "csv")
    if kind not in FORMATS:
        kind = "csv"
    content_type, render_report = FORMATS[kind]
    body = render_report(reports.monthly_report(month=month))
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="report-{month:%Y-%m}.{kind}"'
    return response
