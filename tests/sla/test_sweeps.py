"""The SLA clock: every timer fires once, at its moment, and running a sweep twice sends
nothing twice. Time is passed in (and moved), never slept."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications.models import OutboxMessage
from sla.services import calendar as sla
from sla.services import sweeps
from tests.factories import CustomerFactory, TicketFactory
from tickets import services
from tickets.models import ComplaintLevel, Ticket, TicketState

pytestmark = pytest.mark.django_db


@pytest.fixture
def start():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def ticket(team, agent, start):
    """A P2 ticket assigned to the agent, created at `start`, not yet answered."""
    return services_ticket(team, agent, start)


def services_ticket(team, agent, start, **fields):
    ticket = TicketFactory(team=team, assignee=agent, state=TicketState.ASSIGNED,
                           created_at=start, priority=2,
                           customer=CustomerFactory(phone="13812345678"), **fields)
    ticket.first_response_due_at = start + timedelta(hours=2)
    ticket.resolution_due_at = start + timedelta(hours=48)
    ticket.save()
    return ticket


def reminders(ticket):
    return OutboxMessage.objects.filter(ticket=ticket, template="sla.first_response_reminder")


def test_the_first_response_reminder_fires_at_two_hours_and_only_once(ticket, agent, start):
    assert sweeps.remind_first_response(now=start + timedelta(hours=1, minutes=59)) == 0
    assert not reminders(ticket).exists()

    assert sweeps.remind_first_response(now=start + timedelta(hours=2)) == 1
    assert sweeps.remind_first_response(now=start + timedelta(hours=3)) == 0

    # The assignee and the team's senior agent (its lead) are reminded.
    assert {m.recipient_user.username for m in reminders(ticket)} == {agent.username,
                                                                      "senior_li"}
    ticket.refresh_from_db()
    assert ticket.first_response_breached_at == start + timedelta(hours=2)
    assert ticket.history.latest().history_change_reason == "sla:first_response_reminder"


def test_an_answered_ticket_gets_no_reminder(ticket, agent, start):
    services.message_add(ticket=ticket, actor=agent, kind="reply", body="您好")

    assert sweeps.remind_first_response(now=start + timedelta(hours=3)) == 0


def test_major_complaints_are_copied_to_the_supervisor(team, agent, supervisor, start):
    ticket = services_ticket(team, agent, start, complaint_level=ComplaintLevel.L2)

    sweeps.remind_first_response(now=start + timedelta(hours=2))

    assert {m.recipient_user for m in reminders(ticket)} >= {agent, supervisor}


def test_unresolved_after_48_hours_the_priority_is_raised_once(ticket, start):
    assert sweeps.raise_priority_of_unresolved(now=start + timedelta(hours=47)) == 0

    assert sweeps.raise_priority_of_unresolved(now=start + timedelta(hours=48)) == 1
    assert sweeps.raise_priority_of_unresolved(now=start + timedelta(hours=60)) == 0

    ticket.refresh_from_db()
    assert ticket.priority == 1
    assert ticket.priority_raised_at == start + timedelta(hours=48)
    assert ticket.history.latest().history_change_reason == "sla:priority_raised"


def test_a_resolution_breach_is_recorded_once(ticket, start):
    assert sweeps.flag_resolution_breaches(now=start + timedelta(hours=48)) == 1
    assert sweeps.flag_resolution_breaches(now=start + timedelta(hours=49)) == 0

    ticket.refresh_from_db()
    assert ticket.resolution_breached_at == start + timedelta(hours=48)


def test_the_customer_hears_every_8_hours_while_the_ticket_is_open(ticket, start):
    updates = OutboxMessage.objects.filter(ticket=ticket, template="customer.progress_update")

    assert sweeps.send_customer_updates(now=start + timedelta(hours=7)) == 0
    assert sweeps.send_customer_updates(now=start + timedelta(hours=8)) == 1
    assert sweeps.send_customer_updates(now=start + timedelta(hours=9)) == 0  # run again: nothing
    assert sweeps.send_customer_updates(now=start + timedelta(hours=16)) == 1

    assert updates.count() == 2
    assert "13812345678" not in updates.first().body
    ticket = Ticket.objects.select_related("update_clock").get(pk=ticket.pk)
    assert ticket.next_update_due_at == start + timedelta(hours=24)


def _next_update(ticket):
    return Ticket.objects.select_related("update_clock").get(pk=ticket.pk).next_update_due_at


def test_a_reply_moves_the_next_update_one_interval_after_it(make_ticket, agent, time_machine):
    ticket = make_ticket()
    time_machine.move_to(ticket.created_at + timedelta(hours=3), tick=False)

    services.message_add(ticket=ticket, actor=agent, kind="reply", body="正在为您加急处理")

    assert _next_update(ticket) == ticket.created_at + timedelta(hours=11)


def test_resolving_stops_the_updates_and_reopening_plans_the_next(make_ticket, agent, start,
                                                                   time_machine):
    ticket = make_ticket(customer=CustomerFactory(phone="13812345678"))
    time_machine.move_to(start, tick=False)

    services.ticket_transition(ticket=ticket, actor=agent, name="resolve", summary="已退款")
    assert _next_update(ticket) is None
    assert sweeps.send_customer_updates(now=start + timedelta(days=2)) == 0

    services.ticket_transition(ticket=ticket, actor=agent, name="reopen")
    assert _next_update(ticket) == start + timedelta(hours=8)


def test_cancelling_stops_the_updates(make_ticket, agent):
    ticket = make_ticket(TicketState.ASSIGNED)

    services.ticket_transition(ticket=ticket, actor=agent, name="cancel", reason="withdrawn")

    assert _next_update(ticket) is None


def test_a_new_ticket_hears_from_us_one_interval_after_creation(team, agent):
    ticket = services.ticket_create(
        actor=agent, channel="phone", subject="快递显示签收但没收到",
        description="物流显示已签收，本人没有收到包裹。",
        customer=CustomerFactory(), team=team,
    )

    terms = sla.terms_for(priority=ticket.priority, complaint_level=ticket.complaint_level)
    assert _next_update(ticket) == ticket.created_at + terms.update_interval


def test_no_updates_while_waiting_for_the_customer(team, agent, start):
    waiting = services_ticket(team, agent, start)
    type(waiting).objects.filter(pk=waiting.pk).update(state=TicketState.PENDING_CUSTOMER)

    assert sweeps.send_customer_updates(now=start + timedelta(hours=8)) == 0


def test_resolved_tickets_close_themselves_after_the_configured_days(make_ticket, start, settings):
    settings.AUTO_CLOSE_RESOLVED_AFTER_DAYS = 3
    resolved = make_ticket(TicketState.RESOLVED, resolved_at=start)

    assert sweeps.close_resolved(now=start + timedelta(days=3) - timedelta(seconds=1)) == 0
    assert sweeps.close_resolved(now=start + timedelta(days=3)) == 1
    assert sweeps.close_resolved(now=start + timedelta(days=4)) == 0

    resolved.refresh_from_db()
    assert resolved.state == TicketState.CLOSED
    latest = resolved.history.latest()
    assert latest.history_user.username == "system"  # the system account, never nobody
    assert latest.history_change_reason == "transition:close — no objection in time"


@pytest.mark.parametrize("sweep", ["remind_first_response", "flag_resolution_breaches",
                                   "raise_priority_of_unresolved", "send_customer_updates"])
def test_a_sweep_costs_the_same_queries_for_3_and_12_due_tickets(sweep, team, agent, start):
    def queries_for(count: int, at) -> int:
        Ticket.objects.update(state=TicketState.CLOSED)  # the earlier round is done with
        for _ in range(count):
            services_ticket(team, agent, at)
        with CaptureQueriesContext(connection) as queries:
            assert getattr(sweeps, sweep)(now=at + timedelta(hours=48)) == count
        return len(queries)

    assert queries_for(3, start) == queries_for(12, start + timedelta(days=10))


def test_the_schedules_exist_after_migrate():
    from django_q.models import Schedule

    names = set(Schedule.objects.values_list("name", flat=True))
    assert {"SLA sweep", "Outbox delivery"} <= names


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_update_each_customer_once(team, agent, start):
    from tests.concurrency import run_together

    tickets = [services_ticket(team, agent, start) for _ in range(30)]
    now = start + timedelta(hours=8)

    def sweep(barrier):
        barrier.wait()
        return sweeps.send_customer_updates(now=now)

    results = run_together(sweep, sweep)

    assert sum(results) == 30, results  # between them, each ticket exactly once
    assert OutboxMessage.objects.filter(template="customer.progress_update").count() == 30
    assert set(OutboxMessage.objects.values_list("ticket", flat=True)) == {t.pk for t in tickets}
