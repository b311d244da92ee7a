"""The dashboard's figures: daily roll-ups filled by a scheduled job, and the formulas on them.

Everything is aggregated in the database. `metrics_rollup` turns one or more local days of
tickets, survey answers and completed resolutions into sums per (day, team, agent) and per
(day, policy rule); running it again for the same days replaces their rows, so it is
idempotent. The pages read those few rows and compute every rate from the summed parts;
only the backlog (open tickets now) is counted live.

Formulas (docs/METRICS.md explains them):
  FRT    = Σ(first_response_at − created_at) / first responses          (by response day)
  AHT    = Σ(resolved_at − created_at − seconds paused) / closed tickets (by closing day)
  FCR    = closed tickets never reopened and never waiting on the customer / closed
  reopen = closed tickets reopened at least once / closed
  SLA    = closed tickets with neither first-response nor resolution breached / closed
  archiving = closed tickets with a resolution summary and a category other than "other"
           / closed
  CSAT   = mean of the 1–5 answers; CSAT % = answers of 4 or 5 / answers  (by answer day)
  NPS    = (answers 9–10 − answers 0–6) / answers × 100
  agent score = 40·FCR + 30·response + 20·satisfaction + 10·archiving, where
           response = min(1, FRT target / agent's FRT) and satisfaction = (CSAT − 1) / 4
"""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import TruncDate, TruncWeek
from django.utils import timezone
from django.utils.functional import Promise

from reporting.models import DailyAgentMetrics, DailyRuleTotals
from reporting.services import rollups
from resolutions.models import Resolution, ResolutionKind, ResolutionState
from supervision.models.survey import Survey
from tickets.models import OPEN_STATES, Category, Team, Ticket, TicketState

# The summed columns of a DailyAgentMetrics row.
SUM_FIELDS = (
    "created", "first_responses", "first_response_seconds", "closed", "handling_seconds",
    "first_contact_resolved", "reopened", "sla_met", "archived_ok", "surveys", "csat_sum",
    "csat_satisfied", "speed_sum", "attitude_sum", "expertise_sum", "promoters", "detractors",
)
CENT = Decimal("0.01")
# The weights of the agent score (DOMAIN.md: quality, satisfaction and performance).
SCORE_WEIGHTS = {"fcr": 40, "response": 30, "satisfaction": 20, "archiving": 10}


# --- local days ----------------------------------------------------------------------------
def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Return the aware datetimes from local midnight of `start` to the midnight after `end`."""
    zone = timezone.get_current_timezone()
    return (datetime.combine(start, time.min, tzinfo=zone),
            datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone))


def month_bounds(month: date) -> tuple[date, date]:
    """Return the first and last day of the month containing `month`."""
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def _local_day(field_name: str) -> TruncDate:
    return TruncDate(field_name, tzinfo=timezone.get_current_timezone())


def _seconds_between(later: str, earlier: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(later) - F(earlier), output_field=DurationField())


def _as_seconds(value: timedelta | float | None) -> int:
    if value is None:
        return 0
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    return int(value) // 1_000_000  # microseconds, where a backend returns a plain number


# --- the roll-up ---------------------------------------------------------------------------
@transaction.atomic
def metrics_rollup(*, start: date, end: date) -> dict[str, int]:
    """Recompute the roll-up rows of the local days from `start` to `end` (inclusive)."""
    low, high = day_bounds(start, end)
    # (day, team id, agent id) -> the day's sums
    rows: dict[tuple[date, int | None, int | None], dict[str, int]] = defaultdict(lambda: dict.fromkeys(SUM_FIELDS, 0))

    created = (Ticket.objects.filter(created_at__gte=low, created_at__lt=high)
               .annotate(day=_local_day("created_at"))
               .values("day", "team_id", "assignee_id").annotate(n=Count("id")).order_by())
    for row in created:
        rows[row["day"], row["team_id"], row["assignee_id"]]["created"] += row["n"]

    responded = (Ticket.objects.filter(first_response_at__gte=low, first_response_at__lt=high)
                 .annotate(day=_local_day("first_response_at"))
                 .values("day", "team_id", "assignee_id")
                 .annotate(n=Count("id"),
                           spent=Sum(_seconds_between("first_response_at", "created_at")))
                 .order_by())
    for row in responded:
        target = rows[row["day"], row["team_id"], row["assignee_id"]]
        target["first_responses"] += row["n"]
        target["first_response_seconds"] += max(_as_seconds(row["spent"]), 0)

    archived = ~Q(resolution_summary="") & ~Q(category=Category.OTHER)
    closed = (Ticket.objects.filter(state=TicketState.CLOSED, closed_at__gte=low,
                                    closed_at__lt=high, resolved_at__isnull=False)
              .annotate(day=_local_day("closed_at"))
              .values("day", "team_id", "assignee_id")
              .annotate(
                  n=Count("id"),
                  spent=Sum(_seconds_between("resolved_at", "created_at")),
                  paused=Sum("paused_seconds"),
                  fcr=Count("id", filter=Q(reopened_count=0, paused_seconds=0)),
                  reopened=Count("id", filter=Q(reopened_count__gt=0)),
                  sla_met=Count("id", filter=Q(first_response_breached_at__isnull=True,
                                               resolution_breached_at__isnull=True)),
                  archived=Count("id", filter=archived),
              ).order_by())
    for row in closed:
        target = rows[row["day"], row["team_id"], row["assignee_id"]]
        target["closed"] += row["n"]
        target["handling_seconds"] += max(_as_seconds(row["spent"]) - (row["paused"] or 0), 0)
        target["first_contact_resolved"] += row["fcr"]
        target["reopened"] += row["reopened"]
        target["sla_met"] += row["sla_met"]
        target["archived_ok"] += row["archived"]

    answers = (Survey.objects.filter(answered_at__gte=low, answered_at__lt=high,
                                     csat__isnull=False)
               .annotate(day=_local_day("answered_at"))
               .values("day", "ticket__team_id", "ticket__assignee_id")
               .annotate(n=Count("id"), csat_total=Sum("csat"),
                         satisfied=Count("id", filter=Q(csat__gte=4)),
                         speed_total=Sum("speed"), attitude_total=Sum("attitude"),
                         expertise_total=Sum("expertise"),
                         promoters=Count("id", filter=Q(nps__gte=9)),
                         detractors=Count("id", filter=Q(nps__lte=6)))
               .order_by())
    for row in answers:
        target = rows[row["day"], row["ticket__team_id"], row["ticket__assignee_id"]]
        target["surveys"] += row["n"]
        target["csat_sum"] += row["csat_total"] or 0
        target["csat_satisfied"] += row["satisfied"]
        target["speed_sum"] += row["speed_total"] or 0
        target["attitude_sum"] += row["attitude_total"] or 0
        target["expertise_sum"] += row["expertise_total"] or 0
        target["promoters"] += row["promoters"]
        target["detractors"] += row["detractors"]

    rollups.daily_agent_metrics_replace(start=start, end=end, rows=[
        DailyAgentMetrics(day=day, team_id=team_id, agent_id=agent_id, **sums)
        for (day, team_id, agent_id), sums in sorted(rows.items(), key=_row_order)
    ])

    paid = (Resolution.objects.filter(state=ResolutionState.COMPLETED, completed_at__gte=low,
                                      completed_at__lt=high)
            .annotate(day=_local_day("completed_at"))
            .values("day", "rule_name", "kind")
            .annotate(n=Count("id"), refund=Sum("refund_amount"),
                      compensation=Sum("compensation_amount"), coupon=Sum("coupon_amount"))
            .order_by())
    rule_rows = rollups.daily_rule_totals_replace(start=start, end=end, rows=[
        DailyRuleTotals(day=row["day"], rule_name=row["rule_name"], kind=row["kind"],
                        resolutions=row["n"], refund_total=row["refund"] or Decimal("0.00"),
                        compensation_total=row["compensation"] or Decimal("0.00"),
                        coupon_total=row["coupon"] or Decimal("0.00"))
        for row in paid
    ])
    return {"agent_rows": len(rows), "rule_rows": len(rule_rows)}


def _row_order(item: tuple[tuple[date, int | None, int | None], object]
               ) -> tuple[date, int, int]:
    (day, team_id, agent_id), _sums = item
    return (day, team_id or 0, agent_id or 0)


# --- reading: totals and their rates -------------------------------------------------------
def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class Totals:
    """Summed roll-up columns of a period (and team or agent), with the rates built on them."""

    created: int = 0
    first_responses: int = 0
    first_response_seconds: int = 0
    closed: int = 0
    handling_seconds: int = 0
    first_contact_resolved: int = 0
    reopened: int = 0
    sla_met: int = 0
    archived_ok: int = 0
    surveys: int = 0
    csat_sum: int = 0
    csat_satisfied: int = 0
    speed_sum: int = 0
    attitude_sum: int = 0
    expertise_sum: int = 0
    promoters: int = 0
    detractors: int = 0

    @classmethod
    def from_sums(cls, sums: Mapping[str, Any]) -> "Totals":
        """Build from a row of _SUMS aggregates (aliases prefixed, not to shadow the columns)."""
        return cls(**{name: int(sums.get(f"sum_{name}") or 0) for name in SUM_FIELDS})

    @property
    def frt_minutes(self) -> float | None:
        ratio = _ratio(self.first_response_seconds, self.first_responses)
        return None if ratio is None else ratio / 60

    @property
    def aht_hours(self) -> float | None:
        ratio = _ratio(self.handling_seconds, self.closed)
        return None if ratio is None else ratio / 3600

    @property
    def fcr_rate(self) -> float | None:
        return _ratio(self.first_contact_resolved, self.closed)

    @property
    def reopen_rate(self) -> float | None:
        return _ratio(self.reopened, self.closed)

    @property
    def sla_compliance(self) -> float | None:
        return _ratio(self.sla_met, self.closed)

    @property
    def archiving_rate(self) -> float | None:
        return _ratio(self.archived_ok, self.closed)

    @property
    def csat_average(self) -> float | None:
        return _ratio(self.csat_sum, self.surveys)

    @property
    def csat_rate(self) -> float | None:
        return _ratio(self.csat_satisfied, self.surveys)

    @property
    def speed_average(self) -> float | None:
        return _ratio(self.speed_sum, self.surveys)

    @property
    def attitude_average(self) -> float | None:
        return _ratio(self.attitude_sum, self.surveys)

    @property
    def expertise_average(self) -> float | None:
        return _ratio(self.expertise_sum, self.surveys)

    @property
    def nps(self) -> float | None:
        ratio = _ratio(self.promoters - self.detractors, self.surveys)
        return None if ratio is None else ratio * 100


_SUMS = {f"sum_{name}": Sum(name) for name in SUM_FIELDS}


def totals(*, start: date, end: date, team_id: int | None = None,
           agent_id: int | None = None) -> Totals:
    """Return the summed figures of the days from `start` to `end`, optionally of one team/agent."""
    rows = DailyAgentMetrics.objects.filter(day__gte=start, day__lte=end)
    if team_id is not None:
        rows = rows.filter(team_id=team_id)
    if agent_id is not None:
        rows = rows.filter(agent_id=agent_id)
    return Totals.from_sums(rows.aggregate(**_SUMS))


def trend(*, start: date, end: date, by: str = "day") -> list[tuple[date, Totals]]:
    """Return (period start, figures) per day or per week (weeks start on Monday)."""
    rows = DailyAgentMetrics.objects.filter(day__gte=start, day__lte=end)
    period = F("day") if by == "day" else TruncWeek("day")
    grouped = rows.annotate(period=period).values("period").annotate(**_SUMS).order_by("period")
    result = []
    for row in grouped:
        when = row["period"]
        if isinstance(when, datetime):
            when = when.date()
        result.append((when, Totals.from_sums(row)))
    return result


@dataclass
class Backlog:
    """Open tickets now, by state and team (counted live)."""

    states: list[tuple[str, str | Promise]]
    teams: list[tuple[int | None, str]]
    counts: dict[tuple[int | None, str], int]
    total: int = 0

    @property
    def table(self) -> list[tuple[str, list[int], int]]:
        """Return (team name, count per state, team total) rows."""
        rows = []
        for team_id, name in self.teams:
            cells = [self.counts.get((team_id, state), 0) for state, _label in self.states]
            rows.append((name, cells, sum(cells)))
        return rows


def backlog() -> Backlog:
    """Count the open tickets by team and state in one grouped query."""
    counts = {}
    for row in (Ticket.objects.filter(state__in=list(OPEN_STATES))
                # COUNT(*): answered from the partial index alone, without the table.
                .values("team_id", "state").annotate(n=Count("*")).order_by()):
        counts[row["team_id"], row["state"]] = row["n"]
    team_ids = {team_id for team_id, _state in counts}
    names = dict(Team.objects.filter(pk__in=[pk for pk in team_ids if pk is not None])
                 .values_list("pk", "name"))
    teams = sorted(((pk, names.get(pk, "—")) for pk in team_ids), key=lambda t: (t[0] is None, t[1]))
    states: list[tuple[str, str | Promise]] = [(state.value, state.label) for state in OPEN_STATES]
    return Backlog(states=states, teams=teams, counts=counts, total=sum(counts.values()))


@dataclass
class RuleTotal:
    rule_name: str
    kind: str
    resolutions: int
    refund_total: Decimal
    compensation_total: Decimal
    coupon_total: Decimal

    @property
    def kind_label(self) -> str | Promise:
        return ResolutionKind(self.kind).label if self.kind in ResolutionKind.values else self.kind


def rule_totals(*, start: date, end: date) -> list[RuleTotal]:
    """Return refunds and compensation paid per policy rule, largest first."""
    grouped = (DailyRuleTotals.objects.filter(day__gte=start, day__lte=end)
               .values("rule_name", "kind")
               .annotate(n=Sum("resolutions"), refund=Sum("refund_total"),
                         compensation=Sum("compensation_total"), coupon=Sum("coupon_total"))
               .order_by("-refund", "rule_name"))
    return [RuleTotal(row["rule_name"], row["kind"], row["n"] or 0, _money(row["refund"]),
                      _money(row["compensation"]), _money(row["coupon"])) for row in grouped]


def _money(value: Decimal | int | None) -> Decimal:
    # SQLite sums decimals without their scale; amounts always show two places.
    return Decimal(value or 0).quantize(CENT)


# --- the agent scorecard -------------------------------------------------------------------
@dataclass
class AgentScore:
    agent_id: int
    name: str
    figures: Totals
    parts: dict[str, float] = field(default_factory=dict)
    score: float = 0.0
    rank: int = 0


def score_parts(figures: Totals, *, fallback: dict[str, float] | None = None) -> dict[str, float]:
    """Return the four score parts (0–1); a part without data takes the fallback value."""
    fallback = fallback or {}
    target = settings.METRICS_FRT_TARGET_MINUTES * 60
    frt = _ratio(figures.first_response_seconds, figures.first_responses)
    parts = {
        "fcr": figures.fcr_rate,
        "response": None if frt is None else (1.0 if frt <= target else target / frt),
        "satisfaction": None if figures.csat_average is None else (figures.csat_average - 1) / 4,
        "archiving": figures.archiving_rate,
    }
    return {name: value if value is not None else fallback.get(name, 0.0)
            for name, value in parts.items()}


def weighted_score(parts: dict[str, float]) -> float:
    """Return the 0–100 agent score from its parts."""
    return sum(SCORE_WEIGHTS[name] * parts[name] for name in SCORE_WEIGHTS)


def scorecard(*, month: date) -> list[AgentScore]:
    """Rank the agents of the month by score (the monthly "service star" ranking)."""
    start, end = month_bounds(month)
    overall = score_parts(totals(start=start, end=end))
    grouped = (DailyAgentMetrics.objects.filter(day__gte=start, day__lte=end,
                                                agent__isnull=False)
               .values("agent_id").annotate(**_SUMS).order_by())
    figures = {row["agent_id"]: Totals.from_sums(row) for row in grouped}
    users = get_user_model().objects.filter(pk__in=list(figures)).only(
        "username", "first_name", "last_name")
    names = {user.pk: str(user) for user in users}
    scores = []
    for agent_id, agent_figures in figures.items():
        parts = score_parts(agent_figures, fallback=overall)
        scores.append(AgentScore(agent_id=agent_id, name=names.get(agent_id, str(agent_id)),
                                 figures=agent_figures, parts=parts,
                                 score=round(weighted_score(parts), 2)))
    scores.sort(key=lambda item: (-item.score, -item.figures.closed, item.name))
    for position, item in enumerate(scores, start=1):
        item.rank = position
    return scores
