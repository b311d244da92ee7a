"""SLA due times: from the SLA policy table, in calendar hours or Chinese working hours.

A policy row exists per priority and complaint level (supervisors edit them in admin); a
ticket without a matching row falls back to the time limits of the source material.
Working hours skip weekends and public holidays and count make-up working days (调休),
from the chinese-calendar package.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import NoReturn, Protocol

import chinese_calendar
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from sla.models import SlaClock, SlaPolicy
from tickets.models import ComplaintLevel

logger = logging.getLogger(__name__)

FIRST_RESPONSE = timedelta(hours=2)  # 2 h without a response triggers a reminder [004]
CUSTOMER_UPDATE_INTERVAL = timedelta(hours=8)  # progress update every 8 h [004]
ESCALATE_AFTER = timedelta(hours=48)  # unresolved after 48 h: priority raised [000]
RESOLUTION_BY_LEVEL: dict[str, timedelta] = {  # keyed by the stored level
    ComplaintLevel.L1: timedelta(hours=24),  # closed within 24 h [001]
    ComplaintLevel.L2: timedelta(hours=48),  # written reply within 48 h [001]
    ComplaintLevel.L3: timedelta(hours=72),  # reported to management within 72 h [001]
}
DEFAULT_RESOLUTION = timedelta(hours=48)


@dataclass(frozen=True)
class Terms:
    """The time limits that apply to one ticket."""

    first_response: timedelta
    resolution: timedelta
    update_interval: timedelta
    escalate_after: timedelta
    working_hours: bool = False
    work_starts: time = time(9)
    work_ends: time = time(18)


@dataclass(frozen=True)
class DueTimes:
    first_response_due_at: datetime
    resolution_due_at: datetime


def default_terms(complaint_level: str) -> Terms:
    return Terms(
        first_response=FIRST_RESPONSE,
        resolution=RESOLUTION_BY_LEVEL.get(complaint_level, DEFAULT_RESOLUTION),
        update_interval=CUSTOMER_UPDATE_INTERVAL,
        escalate_after=ESCALATE_AFTER,
    )


class PolicySource(Protocol):
    """What the SLA reads from the configuration kept in memory (routing.services.config)."""

    def sla_policy(self, *, priority: int, complaint_level: str) -> SlaPolicy | None: ...


def _no_config_source() -> NoReturn:
    raise ImproperlyConfigured("No configuration source: add the routing app to INSTALLED_APPS.")


# The SLA policies are kept in memory with the routing rules (routing.services.config, one
# version row for both, so an intake reads its configuration once). Routing sits above sla,
# so it hands its reader over at start-up (RoutingConfig.ready).
_config_source: Callable[[], PolicySource] = _no_config_source


def use_config_source(source: Callable[[], PolicySource]) -> None:
    global _config_source
    _config_source = source


def terms_for(*, priority: int, complaint_level: str,
              config: PolicySource | None = None) -> Terms:
    """Return the SLA terms for a priority and level: its policy row, or the defaults.

    The policies come from the configuration kept in memory (one version read, see
    use_config_source), or from `config` where the caller holds it already.
    """
    config = config or _config_source()
    return terms_of_policy(
        config.sla_policy(priority=priority, complaint_level=complaint_level), complaint_level)


def terms_of_policy(policy: SlaPolicy | None, complaint_level: str) -> Terms:
    """Return the terms an SLA policy row sets; the defaults where there is no row."""
    if policy is None:
        return default_terms(complaint_level)
    return Terms(
        first_response=timedelta(minutes=policy.first_response_minutes),
        resolution=timedelta(minutes=policy.resolution_minutes),
        update_interval=timedelta(minutes=policy.update_interval_minutes),
        escalate_after=timedelta(minutes=policy.escalate_after_minutes),
        working_hours=policy.clock == SlaClock.WORKING,
        work_starts=policy.work_starts,
        work_ends=policy.work_ends,
    )


def is_working_day(day: date) -> bool:
    """Return True on a Chinese working day (make-up days included, holidays excluded)."""
    try:
        working: bool = chinese_calendar.is_workday(day)  # the package ships no types
        return working
    except NotImplementedError:
        # The package knows the years the State Council has published; beyond them, fall
        # back to Monday to Friday rather than stop the clock.
        logger.warning("No holiday calendar for %s; counting Monday to Friday.", day.year)
        return day.weekday() < 5


def add_time(start: datetime, duration: timedelta, terms: Terms) -> datetime:
    """Return start + duration on the terms' clock (calendar, or working hours only)."""
    if not terms.working_hours:
        return start + duration
    zone = timezone.get_current_timezone()
    moment = timezone.localtime(start, zone)
    remaining = duration
    for _day in range(3660):  # ten years of days is more than any SLA needs
        day = moment.date()
        opens = datetime.combine(day, terms.work_starts, tzinfo=zone)
        closes = datetime.combine(day, terms.work_ends, tzinfo=zone)
        if is_working_day(day) and moment < closes:
            moment = max(moment, opens)
            available = closes - moment
            if remaining <= available:
                return moment + remaining
            remaining -= available
        moment = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    raise ValueError("SLA duration too long to schedule")


def due_times(*, created_at: datetime, terms: Terms, paused_seconds: int = 0) -> DueTimes:
    """Return the due times of a ticket created at `created_at` under `terms`."""
    paused = timedelta(seconds=paused_seconds)
    return DueTimes(
        first_response_due_at=add_time(created_at, terms.first_response, terms) + paused,
        resolution_due_at=add_time(created_at, terms.resolution, terms) + paused,
    )


def customer_update_due_at(*, after: datetime, terms: Terms) -> datetime:
    """Return when the customer's next progress update is due: one interval after `after`."""
    return add_time(after, terms.update_interval, terms)


def initial_due_times(*, created_at: datetime, priority: int, complaint_level: str) -> DueTimes:
    """Return the due times stamped on a new ticket."""
    return due_times(created_at=created_at,
                     terms=terms_for(priority=priority, complaint_level=complaint_level))
