"""The console's live numbers for Prometheus, counted when it scrapes.

Each number is one count or aggregate on an index (or a table of a few rows), so a scrape
every few seconds from every node costs next to nothing at any table size:

- queue depth: open tickets nobody has taken, per team (ticket_open_mine_idx, assignee NULL);
- SLA breaches: open tickets past their resolution time (ticket_open_due_idx) or past their
  first-response time without a first response (the open tickets' partial indexes);
- outbox backlog: pending messages (outbox_pending_due_idx) and the age of the oldest, and
  failed ones (outbox_failed_idx);
- payment failures: resolutions whose execution failed and those handed to a person
  (resolution_state_idx). Failures as they happen are counted by
  `resolutions.services.payments.PAYMENT_FAILURES`.

Registered with core's metrics endpoint in ReportingConfig.ready().
"""

from collections.abc import Iterator
from datetime import datetime

from django.db.models import Count, Min, Q
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

from notifications.models import OutboxMessage, OutboxStatus
from resolutions.models import Resolution, ResolutionState
from tickets.models import OPEN_STATES, Team, Ticket

NO_TEAM = "none"


def unassigned_open_tickets_by_team() -> dict[str, int]:
    """Open tickets without an assignee, by team code; every active team shows, with 0."""
    counts = dict(Ticket.objects.filter(state__in=OPEN_STATES, assignee__isnull=True)
                  .order_by().values_list("team_id").annotate(n=Count("id")))
    teams = dict(Team.objects.filter(Q(is_active=True) | Q(id__in=[pk for pk in counts if pk]))
                 .values_list("id", "code"))
    depth = {code: counts.get(pk, 0) for pk, code in teams.items()}
    if None in counts:
        depth[NO_TEAM] = counts[None]
    return depth


def sla_breached_open_tickets(now: datetime) -> dict[str, int]:
    """Open tickets past a due time, by clock (the same rule as the "breached" queue)."""
    open_tickets = Ticket.objects.filter(state__in=OPEN_STATES)
    return {
        "resolution": open_tickets.filter(resolution_due_at__lt=now).count(),
        "first_response": open_tickets.filter(first_response_at__isnull=True,
                                              first_response_due_at__lt=now).count(),
    }


def outbox_backlog(now: datetime) -> tuple[dict[str, int], float]:
    """Pending and failed messages, and how long the oldest pending one has waited (seconds)."""
    pending = OutboxMessage.objects.filter(status=OutboxStatus.PENDING).order_by().aggregate(
        count=Count("id"), oldest=Min("created_at"))
    failed = OutboxMessage.objects.filter(status=OutboxStatus.FAILED).count()
    oldest = pending["oldest"]
    age = max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
    return {"pending": pending["count"], "failed": failed}, age


def failed_payment_executions() -> dict[str, int]:
    """Resolutions whose payment failed: waiting for a retry, or handed to a person."""
    states = (ResolutionState.FAILED, ResolutionState.MANUAL_REVIEW)
    counts = dict(Resolution.objects.filter(state__in=states).order_by()
                  .values_list("state").annotate(n=Count("id")))
    return {str(state): counts.get(state, 0) for state in states}


class OperationsCollector:
    """Prometheus collector of the numbers above (gauges, read at each scrape)."""

    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        depth = GaugeMetricFamily(
            "cs_queue_unassigned_tickets", "Open tickets nobody has taken, by team",
            labels=["team"])
        for team, count in sorted(unassigned_open_tickets_by_team().items()):
            depth.add_metric([team], count)
        yield depth

        breaches = GaugeMetricFamily(
            "cs_sla_breached_tickets", "Open tickets past their SLA due time, by clock",
            labels=["clock"])
        for clock, count in sla_breached_open_tickets(now).items():
            breaches.add_metric([clock], count)
        yield breaches

        counts, oldest_age = outbox_backlog(now)
        outbox = GaugeMetricFamily("cs_outbox_messages", "Outbox messages not delivered, by status",
                                   labels=["status"])
        for status, count in counts.items():
            outbox.add_metric([status], count)
        yield outbox
        yield GaugeMetricFamily(
            "cs_outbox_oldest_pending_age_seconds",
            "How long the oldest pending outbox message has waited (0 with none pending)",
            value=oldest_age)

        failures = GaugeMetricFamily(
            "cs_payment_failed_resolutions",
            "Resolutions whose payment failed: awaiting a retry or in manual review",
            labels=["state"])
        for state, count in failed_payment_executions().items():
            failures.add_metric([state], count)
        yield failures
