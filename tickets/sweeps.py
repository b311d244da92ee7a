"""The SLA clock: set-based sweeps the scheduler runs every few minutes.

Each sweep selects the due tickets in one query on an indexed due-time column (partial
indexes over open tickets), changes them in batches with one history row each, and records
that it acted (a timestamp column or the outbox's dedupe key) so running it twice does
nothing twice. Each takes `now`, so tests move the clock instead of sleeping.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from cs_console.roles import Role
from tickets import notifications, sla
from tickets.models import OPEN_STATES, ComplaintLevel, Priority, SlaPolicy, Ticket, TicketState

logger = logging.getLogger(__name__)
BATCH = 500
MAJOR_LEVELS = (ComplaintLevel.L2, ComplaintLevel.L3, ComplaintLevel.SPECIAL)


def _batches(ids: list[int]):
    for start in range(0, len(ids), BATCH):
        yield ids[start:start + BATCH]


def _supervisors():
    return list(get_user_model().objects.filter(groups__name=Role.SUPERVISOR, is_active=True))


def _save_batch(tickets: list[Ticket], fields: list[str], reason: str) -> None:
    bulk_update_with_history(tickets, Ticket, fields, batch_size=BATCH,
                             default_change_reason=reason)


def _team_leads(team_id: int, cache: dict) -> list:
    """Return the team's senior agents, who lead its queue (looked up once per sweep)."""
    if team_id not in cache:
        cache[team_id] = list(get_user_model().objects.filter(
            teams=team_id, groups__name=Role.SENIOR_AGENT, is_active=True))
    return cache[team_id]


def _terms(priority: int, complaint_level: str, cache: dict) -> sla.Terms:
    """Return the SLA terms for a priority and level (read once per sweep, not per ticket)."""
    if (priority, complaint_level) not in cache:
        cache[priority, complaint_level] = sla.terms_for(priority=priority,
                                                         complaint_level=complaint_level)
    return cache[priority, complaint_level]


def remind_first_response(*, now: datetime) -> int:
    """Remind the assignee and the team lead of tickets past their first-response time.

    An unassigned ticket reminds its whole team; major complaints are copied to the
    supervisors [004].
    """
    ids = list(Ticket.objects.filter(
        state__in=OPEN_STATES, first_response_at__isnull=True,
        first_response_reminded_at__isnull=True, first_response_due_at__lte=now,
    ).values_list("id", flat=True))
    supervisors = None
    leads: dict[int, list] = {}
    for batch in _batches(ids):
        with transaction.atomic():
            tickets = list(Ticket.objects.filter(pk__in=batch).select_related("team", "assignee"))
            for ticket in tickets:
                if ticket.assignee:
                    recipients = [ticket.assignee]
                    if ticket.team_id:
                        recipients += _team_leads(ticket.team_id, leads)
                elif ticket.team:
                    recipients = list(ticket.team.members.filter(is_active=True))
                else:
                    recipients = []
                if ticket.complaint_level in MAJOR_LEVELS:
                    supervisors = supervisors if supervisors is not None else _supervisors()
                    recipients += supervisors
                for user in {user.pk: user for user in recipients}.values():
                    notifications.notify(
                        template="sla.first_response_reminder", channel="internal",
                        ticket=ticket, user=user,
                        dedupe_key=f"frt-reminder:{ticket.pk}:{user.pk}",
                    )
                ticket.first_response_reminded_at = now
                ticket.first_response_breached_at = ticket.first_response_breached_at or now
            _save_batch(tickets, ["first_response_reminded_at", "first_response_breached_at"],
                        "sla:first_response_reminder")
    return len(ids)


def flag_resolution_breaches(*, now: datetime) -> int:
    """Record tickets that passed their resolution time, and tell their assignee."""
    ids = list(Ticket.objects.filter(
        state__in=OPEN_STATES, resolution_breached_at__isnull=True, resolution_due_at__lte=now,
    ).values_list("id", flat=True))
    for batch in _batches(ids):
        with transaction.atomic():
            tickets = list(Ticket.objects.filter(pk__in=batch).select_related("assignee"))
            for ticket in tickets:
                ticket.resolution_breached_at = now
                if ticket.assignee:
                    notifications.notify(
                        template="sla.resolution_overdue", channel="internal", ticket=ticket,
                        user=ticket.assignee, dedupe_key=f"res-breach:{ticket.pk}",
                    )
            _save_batch(tickets, ["resolution_breached_at"], "sla:resolution_breached")
    return len(ids)


def raise_priority_of_unresolved(*, now: datetime) -> int:
    """Raise by one the priority of tickets unresolved past their policy's limit (48 h) [000]."""
    limits = {(p.priority, p.complaint_level): timedelta(minutes=p.escalate_after_minutes)
              for p in SlaPolicy.objects.all()}
    ids: list[int] = []
    for priority in Priority.values:
        for level in ComplaintLevel.values:
            limit = limits.get((priority, level)) or limits.get((priority, ComplaintLevel.NONE)) \
                or sla.ESCALATE_AFTER
            ids += Ticket.objects.filter(
                state__in=OPEN_STATES, priority_raised_at__isnull=True, priority=priority,
                complaint_level=level, created_at__lte=now - limit,
            ).values_list("id", flat=True)
    terms_cache: dict = {}
    for batch in _batches(ids):
        with transaction.atomic():
            tickets = list(Ticket.objects.filter(pk__in=batch))
            for ticket in tickets:
                ticket.priority = max(Priority.P0, ticket.priority - 1)
                ticket.priority_raised_at = now
                terms = _terms(ticket.priority, ticket.complaint_level, terms_cache)
                ticket.resolution_due_at = min(
                    ticket.resolution_due_at or now,
                    sla.add_time(ticket.created_at, terms.resolution, terms)
                    + timedelta(seconds=ticket.paused_seconds),
                )
            _save_batch(tickets, ["priority", "priority_raised_at", "resolution_due_at"],
                        "sla:priority_raised")
    return len(ids)


def send_customer_updates(*, now: datetime) -> int:
    """Tell customers how their open ticket is going, every 8 hours until it closes [004]."""
    ids = list(Ticket.objects.filter(
        state__in=[state for state in OPEN_STATES if state != TicketState.PENDING_CUSTOMER],
        next_update_due_at__lte=now,
    ).values_list("id", flat=True))
    terms_cache: dict = {}
    for batch in _batches(ids):
        with transaction.atomic():
            tickets = list(Ticket.objects.filter(pk__in=batch).select_related("customer"))
            for ticket in tickets:
                terms = _terms(ticket.priority, ticket.complaint_level, terms_cache)
                ticket.next_update_due_at = sla.add_time(now, terms.update_interval, terms)
                if not ticket.customer.phone:
                    continue  # no number to write to; the clock still moves on
                notifications.notify(
                    template="customer.progress_update",
                    channel="app" if ticket.channel in ("app", "mini_program") else "sms",
                    ticket=ticket, customer=ticket.customer, address=ticket.customer.phone,
                    dedupe_key=f"update:{ticket.pk}:{now:%Y%m%d%H%M}",
                )
            _save_batch(tickets, ["next_update_due_at"], "sla:customer_update")
    return len(ids)


def close_resolved(*, now: datetime) -> int:
    """Close resolved tickets the customer has not objected to within the configured days."""
    from tickets.services import ticket_close_automatically

    cutoff = now - timedelta(days=settings.AUTO_CLOSE_RESOLVED_AFTER_DAYS)
    ids = list(Ticket.objects.filter(state=TicketState.RESOLVED, resolved_at__lte=cutoff)
               .values_list("id", flat=True))
    for ticket_id in ids:
        ticket_close_automatically(ticket_id=ticket_id, at=now)
    return len(ids)


SWEEPS = (remind_first_response, flag_resolution_breaches, raise_priority_of_unresolved,
          send_customer_updates, close_resolved)


def run_all(*, now: datetime | None = None) -> dict[str, int]:
    """Run every sweep once; return how many tickets each one acted on."""
    now = now or timezone.now()
    done = {}
    for sweep in SWEEPS:
        done[sweep.__name__] = sweep(now=now)
    logger.info("SLA sweep at %s: %s", now.isoformat(), done)
    return done
