"""The SLA clock: set-based sweeps the scheduler runs every few minutes.

Each sweep reads the due tickets in batches along an indexed due-time column (partial
indexes over open tickets), changes each batch with a few set-based statements (one UPDATE,
one history INSERT, one outbox INSERT, one delivery task) and records that it acted (a
timestamp column or the outbox's dedupe key), so running it twice does nothing twice. Each
takes `now`, so tests move the clock instead of sleeping. The writes themselves are the
services of `sla.services.sweep_writes` and the outbox's.
"""

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Model, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.models.roles import Role
from core.models.user import User
from notifications.services import delivery as notifications
from sla.models import CustomerUpdateClock, SlaPolicy
from sla.services import calendar as sla
from sla.services import sweep_writes as sla_sweeps
from tickets.models import OPEN_STATES, ComplaintLevel, Priority, Ticket, TicketState
from tickets.services import ticket_close_automatically

logger = logging.getLogger(__name__)
BATCH = 500
MAJOR_LEVELS = (ComplaintLevel.L2, ComplaintLevel.L3, ComplaintLevel.SPECIAL)
_Row = TypeVar("_Row", bound=Model)


def _supervisors() -> list[User]:
    return list(get_user_model().objects.filter(groups__name=Role.SUPERVISOR, is_active=True))


def _each_due_batch(due: QuerySet[_Row], order_by: str,
                    handle: Callable[[list[_Row]], None]) -> int:
    """Hand the due rows to `handle` a batch at a time; return how many were handled.

    Each batch is read in the order of its due-time index (ORDER BY … LIMIT, so PostgreSQL
    walks the partial index and stops, whatever it guesses about the rest of the table),
    locked with SKIP LOCKED, re-checked against the due condition in the same statement and
    handled in its own transaction. A row another worker holds is left to the next run;
    two sweeps at once never act on the same row. Batches go on after the last row
    handled (keyset), so a row is looked at once per run even if it stays due.
    """
    handled, after = 0, None
    while True:
        page = due
        if after is not None:
            value, pk = after
            page = page.filter(**{f"{order_by}__gte": value}).exclude(
                **{order_by: value, "pk__lte": pk})
        with transaction.atomic():
            rows = list(page.select_for_update(skip_locked=True, of=("self",))
                        .order_by(order_by, "pk")[:BATCH])
            if rows:
                handle(rows)
        handled += len(rows)
        if len(rows) < BATCH:
            return handled
        after = (getattr(rows[-1], order_by), rows[-1].pk)


def _team_leads(team_id: int, cache: dict[int, list[User]]) -> list[User]:
    """Return the team's senior agents, who lead its queue (looked up once per sweep)."""
    if team_id not in cache:
        cache[team_id] = list(get_user_model().objects.filter(
            teams=team_id, groups__name=Role.SENIOR_AGENT, is_active=True))
    return cache[team_id]


def _team_members(team_id: int, cache: dict[int, list[User]]) -> list[User]:
    """Return the team's active members (looked up once per sweep)."""
    if team_id not in cache:
        cache[team_id] = list(get_user_model().objects.filter(teams=team_id, is_active=True))
    return cache[team_id]


def _terms(priority: int, complaint_level: str,
           cache: dict[tuple[int, str], sla.Terms]) -> sla.Terms:
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
    supervisors: list[User] | None = None
    leads: dict[int, list[User]] = {}
    members: dict[int, list[User]] = {}

    def handle(tickets: list[Ticket]) -> None:
        nonlocal supervisors
        reminders = []
        for ticket in tickets:
            recipients: list[User]
            if ticket.assignee is not None:  # no query without an assignee id
                recipients = [ticket.assignee]
                if ticket.team_id:
                    recipients += _team_leads(ticket.team_id, leads)
            elif ticket.team_id:
                recipients = list(_team_members(ticket.team_id, members))
            else:
                recipients = []
            if ticket.complaint_level in MAJOR_LEVELS:
                supervisors = supervisors if supervisors is not None else _supervisors()
                recipients += supervisors
            reminders += [
                notifications.Notification(
                    template="sla.first_response_reminder", channel="internal",
                    ticket=ticket, user=user, dedupe_key=f"frt-reminder:{ticket.pk}:{user.pk}",
                )
                for user in {user.pk: user for user in recipients}.values()
            ]
            ticket.first_response_reminded_at = now
            ticket.first_response_breached_at = ticket.first_response_breached_at or now
        notifications.notify_many(reminders)
        sla_sweeps.sla_tickets_stamp(
            tickets=tickets, reason="sla:first_response_reminder",
            columns={"first_response_reminded_at": now, "first_response_breached_at":
                     Coalesce("first_response_breached_at", Value(now))})

    due = Ticket.objects.filter(
        state__in=OPEN_STATES, first_response_at__isnull=True,
        first_response_reminded_at__isnull=True, first_response_due_at__lte=now,
    ).select_related("assignee")
    return _each_due_batch(due, "first_response_due_at", handle)


def flag_resolution_breaches(*, now: datetime) -> int:
    """Record tickets that passed their resolution time, and tell their assignee."""
    def handle(tickets: list[Ticket]) -> None:
        for ticket in tickets:
            ticket.resolution_breached_at = now
        notifications.notify_many(
            notifications.Notification(
                template="sla.resolution_overdue", channel="internal", ticket=ticket,
                user=ticket.assignee, dedupe_key=f"res-breach:{ticket.pk}",
            )
            for ticket in tickets if ticket.assignee_id
        )
        sla_sweeps.sla_tickets_stamp(tickets=tickets, reason="sla:resolution_breached",
                                     columns={"resolution_breached_at": now})

    due = Ticket.objects.filter(
        state__in=OPEN_STATES, resolution_breached_at__isnull=True, resolution_due_at__lte=now,
    ).select_related("assignee")
    return _each_due_batch(due, "resolution_due_at", handle)


def raise_priority_of_unresolved(*, now: datetime) -> int:
    """Raise by one the priority of tickets unresolved past their policy's limit (48 h) [000]."""
    limits = {(p.priority, p.complaint_level): timedelta(minutes=p.escalate_after_minutes)
              for p in SlaPolicy.objects.all()}
    terms_cache: dict[tuple[int, str], sla.Terms] = {}

    def handle(tickets: list[Ticket]) -> None:
        for ticket in tickets:
            ticket.priority = max(Priority.P0, ticket.priority - 1)
            ticket.priority_raised_at = now
            terms = _terms(ticket.priority, ticket.complaint_level, terms_cache)
            ticket.resolution_due_at = min(
                ticket.resolution_due_at or now,
                sla.add_time(ticket.created_at, terms.resolution, terms)
                + timedelta(seconds=ticket.paused_seconds),
            )
        sla_sweeps.sla_tickets_save(
            tickets=tickets, fields=["priority", "priority_raised_at", "resolution_due_at"],
            reason="sla:priority_raised")

    raised = 0
    # One index range per priority and level (the limit differs), most urgent first.
    for priority in Priority.values:
        for level in ComplaintLevel.values:
            limit = limits.get((priority, level)) or limits.get((priority, ComplaintLevel.NONE)) \
                or sla.ESCALATE_AFTER
            due = Ticket.objects.filter(
                state__in=OPEN_STATES, priority_raised_at__isnull=True, priority=priority,
                complaint_level=level, created_at__lte=now - limit,
            )
            raised += _each_due_batch(due, "created_at", handle)
    return raised


def send_customer_updates(*, now: datetime) -> int:
    """Tell customers how their open ticket is going, every 8 hours until it closes [004].

    Walks the narrow CustomerUpdateClock table (see its docstring for why it is apart from
    the ticket). Tickets waiting on the customer are skipped and keep their due time.
    """
    terms_cache: dict[tuple[int, str], sla.Terms] = {}

    def handle(clocks: list[CustomerUpdateClock]) -> None:
        next_due: dict[datetime, list[int]] = defaultdict(list)
        updates = []
        for clock in clocks:
            ticket = clock.ticket
            terms = _terms(ticket.priority, ticket.complaint_level, terms_cache)
            next_due[sla.add_time(now, terms.update_interval, terms)].append(clock.pk)
            if not ticket.customer.phone:
                continue  # no number to write to; the clock still moves on
            updates.append(notifications.Notification(
                template="customer.progress_update",
                channel="app" if ticket.channel in ("app", "mini_program") else "sms",
                ticket=ticket, customer=ticket.customer, address=ticket.customer.phone,
                dedupe_key=f"update:{ticket.pk}:{now:%Y%m%d%H%M}",
            ))
        notifications.notify_many(updates)
        sla_sweeps.customer_update_clocks_move(due_at=next_due)

    due = CustomerUpdateClock.objects.filter(
        due_at__lte=now,
        ticket__state__in=[state for state in OPEN_STATES
                           if state != TicketState.PENDING_CUSTOMER],
    ).select_related("ticket__customer").only(
        "ticket_id", "due_at", "ticket__id", "ticket__number", "ticket__subject",
        "ticket__state", "ticket__priority", "ticket__complaint_level", "ticket__channel",
        "ticket__customer__id", "ticket__customer__name", "ticket__customer__phone",
        "ticket__customer__external_id",
    )
    return _each_due_batch(due, "due_at", handle)


def close_resolved(*, now: datetime) -> int:
    """Close resolved tickets the customer has not objected to within the configured days."""

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
