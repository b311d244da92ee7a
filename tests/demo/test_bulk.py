"""The bulk ticket generator (demo/services/bulk.py) on whichever database the tests run on."""

import re
from collections import Counter

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Count, F, Q
from django.utils import timezone

from demo.services import bulk as bulk_loader
from demo.services.bulk import BULK_REASON, generate_tickets
from demo.services.people import load_people
from routing.services import assignment as routing
from routing.services.config import routing_config
from shop.models import Customer, Order
from sla.models import CustomerUpdateClock
from sla.services import calendar as sla
from tests.factories import CustomerFactory
from tickets.models import (
    OPEN_STATES,
    Channel,
    Message,
    MessageKind,
    Priority,
    Tag,
    Team,
    Ticket,
    TicketNumberSequence,
    TicketState,
)
from tickets.services import ticket_create
from tickets.services.numbering import format_ticket_number
from tickets.services.tickets import escalated_priority, escalation_team_code

# Written against English messages, as the ticket tests they came from.
pytestmark = pytest.mark.usefixtures("english_messages")

N = 200


@pytest.fixture
def people(db):
    load_people()


@pytest.fixture
def bulk(people):
    return generate_tickets(N, batch_size=70, seed=7)


def test_creates_exactly_the_tickets_asked_for_with_messages_and_history(bulk):
    assert bulk.tickets == N
    assert Ticket.objects.count() == N
    assert Message.objects.count() == bulk.messages
    assert not Ticket.objects.annotate(n=Count("messages")).filter(n=0).exists()
    assert not Ticket.objects.annotate(n=Count("messages")).filter(n__gt=3).exists()

    ticket_history = Ticket.history.model.objects
    assert ticket_history.count() == N
    assert set(ticket_history.values_list("id", flat=True)) == set(
        Ticket.objects.values_list("id", flat=True)
    )
    assert not ticket_history.exclude(history_change_reason=BULK_REASON).exists()
    assert not ticket_history.exclude(history_type="+").exists()
    # The loader acts as the system: its rows name the system account, never nobody.
    assert set(ticket_history.values_list("history_user__username", flat=True)) == {"system"}
    assert not ticket_history.exclude(history_date=F("created_at")).exists()

    message_history = Message.history.model.objects
    assert message_history.count() == bulk.messages
    assert not message_history.exclude(history_change_reason=BULK_REASON).exists()
    assert set(message_history.values_list("id", flat=True)) == set(
        Message.objects.values_list("id", flat=True)
    )


def test_every_ticket_opens_with_the_customers_words(bulk):
    for ticket in Ticket.objects.prefetch_related("messages")[:50]:
        first = ticket.messages.all()[0]
        assert first.kind == MessageKind.INBOUND
        assert first.created_at == ticket.created_at
        assert first.body == ticket.description


def test_history_rows_carry_the_tickets_values_and_tags(bulk):
    ticket = Ticket.objects.filter(tags__isnull=False).first()
    assert ticket is not None, "the generator tags about a quarter of its tickets"
    row = ticket.history.get()
    assert (row.number, row.state, row.customer_id, row.assignee_id) == (
        ticket.number, ticket.state, ticket.customer_id, ticket.assignee_id
    )
    assert set(row.tags.values_list("tag_id", flat=True)) == set(
        ticket.tags.values_list("id", flat=True)
    )


def test_numbers_are_unique_and_agree_with_the_day_counters(bulk):
    numbers = list(Ticket.objects.values_list("number", "created_at"))
    assert len({number for number, _ in numbers}) == N
    last = dict(TicketNumberSequence.objects.values_list("day", "last"))
    for number, created_at in numbers:
        day = timezone.localdate(created_at)
        sequence = int(number.rsplit("-", 1)[1])
        assert number == format_ticket_number(day, sequence)
        assert 1 <= sequence <= last[day]
    # The counters were moved by exactly the tickets of each day: no number skipped or reused.
    per_day = Counter(timezone.localdate(created_at) for _, created_at in numbers)
    assert per_day == {day: count for day, count in last.items() if count}


def test_a_ticket_created_afterwards_gets_a_fresh_number(bulk, agent):
    bulk_numbers = set(Ticket.objects.values_list("number", flat=True))
    customer = CustomerFactory()

    ticket = ticket_create(actor=agent, channel=Channel.PHONE, customer=customer,
                           subject="耳机左耳没有声音", description="左耳没有声音。")

    assert ticket.number not in bulk_numbers
    assert ticket.pk > max(Ticket.objects.exclude(pk=ticket.pk).values_list("pk", flat=True))
    day = timezone.localdate(ticket.created_at)
    assert ticket.number == format_ticket_number(
        day, TicketNumberSequence.objects.get(day=day).last
    )


def test_states_cover_every_state_and_most_tickets_are_closed(bulk):
    states = Counter(Ticket.objects.values_list("state", flat=True))
    assert set(states) == set(TicketState.values)
    assert states[TicketState.CLOSED] > N / 2


def test_fields_agree_with_the_state(bulk):
    tickets = Ticket.objects.all()
    open_states = [TicketState.NEW, TicketState.ASSIGNED, TicketState.IN_PROGRESS,
                   TicketState.PENDING_CUSTOMER, TicketState.PENDING_INTERNAL]
    assert not tickets.filter(state=TicketState.NEW, assignee__isnull=False).exists()
    assert not tickets.exclude(state__in=[TicketState.NEW, TicketState.CANCELLED]).filter(
        assignee__isnull=True
    ).exists()
    assert not tickets.filter(state__in=[TicketState.NEW, TicketState.ASSIGNED]).filter(
        first_response_at__isnull=False
    ).exists()
    assert not tickets.filter(
        state__in=[TicketState.IN_PROGRESS, TicketState.RESOLVED, TicketState.CLOSED],
        first_response_at__isnull=True,
    ).exists()
    assert not tickets.filter(state=TicketState.CLOSED).filter(
        Q(resolved_at__isnull=True) | Q(closed_at__isnull=True) | Q(resolution_summary="")
    ).exists()
    assert not tickets.filter(state=TicketState.CANCELLED).filter(
        Q(closed_at__isnull=True) | Q(cancel_reason="")
    ).exists()
    assert not tickets.filter(state__in=open_states).filter(
        Q(closed_at__isnull=False) | Q(resolved_at__isnull=False)
    ).exists()
    assert not tickets.filter(state=TicketState.PENDING_CUSTOMER, paused_at__isnull=True).exists()
    assert not tickets.filter(state=TicketState.PENDING_INTERNAL, waiting_on="").exists()
    assert not tickets.filter(resolved_at__gt=F("closed_at")).exists()
    assert not tickets.filter(first_response_at__lt=F("created_at")).exists()
    now = timezone.now()
    assert not tickets.filter(Q(created_at__gt=now) | Q(updated_at__gt=now)).exists()
    assert not Message.objects.filter(created_at__gt=now).exists()


def test_orders_belong_to_the_ticket_customer_and_precede_the_ticket(bulk):
    with_order = Ticket.objects.filter(order__isnull=False)
    assert with_order.count() > N / 2
    assert not with_order.exclude(order__customer_id=F("customer_id")).exists()
    assert not with_order.exclude(order_item__order_id=F("order_id")).exists()
    assert not with_order.filter(order__paid_at__gt=F("created_at")).exists()
    assert bulk.customers >= N / 5
    assert Customer.objects.filter(external_id__startswith="BK").count() == bulk.customers
    assert Order.objects.filter(number__startswith="BK").count() == bulk.orders
    assert Customer.history.filter(history_change_reason=BULK_REASON).count() == bulk.customers


def test_running_twice_adds_as_many_again(bulk):
    second = generate_tickets(N, batch_size=64, seed=7)

    assert second.tickets == N
    assert Ticket.objects.count() == 2 * N
    assert Ticket.objects.values("number").distinct().count() == 2 * N
    assert Ticket.history.model.objects.count() == 2 * N
    assert Message.history.model.objects.count() == bulk.messages + second.messages
    assert Tag.objects.count() == len(set(Tag.objects.values_list("name", flat=True)))


def test_the_same_seed_gives_the_same_content(people):
    def content():
        # Not the subjects: they name orders, whose numbers come from the ids.
        return list(Ticket.objects.order_by("id").values_list(
            "state", "priority", "complaint_level", "channel", "category", "created_at"
        ))

    now = timezone.now()
    generate_tickets(30, seed=3, now=now)
    first = content()
    Ticket.objects.all().delete()
    generate_tickets(30, seed=3, now=now)

    assert content() == first


TEMPLATES = (*bulk_loader.AFTER_DELIVERY, *bulk_loader.IN_TRANSIT, *bulk_loader.NOT_SHIPPED,
             *bulk_loader.PAYMENT, *bulk_loader.NO_ORDER)


def _template_of(ticket: Ticket) -> bulk_loader.Template:
    """Return the template a generated ticket was written from (subjects differ per template)."""
    words = {"order": ticket.order.number if ticket.order_id else "",
             "item": ticket.order_item.title if ticket.order_item_id else ""}
    (template,) = [t for t in TEMPLATES if t.subject.format(**words)[:200] == ticket.subject]
    return template


def _last_reply_at(ticket: Ticket):
    replies = [m.created_at for m in ticket.messages.all() if m.kind == MessageKind.REPLY]
    return max(replies, default=ticket.created_at)


@pytest.fixture
def bulk_of_p3_requests(people, monkeypatch):
    """A load in which every request arrives as P3, so any other priority is the rules' doing."""
    monkeypatch.setattr(bulk_loader, "PRIORITY_WEIGHTS", {Priority.P3: 1})
    return generate_tickets(80, batch_size=30, seed=11)


def test_each_ticket_gets_what_the_services_rules_give_for_its_inputs(bulk_of_p3_requests):
    # given: the rules the services apply, as they stand in the database
    config = routing_config()
    active_teams = {team.code: team for team in Team.objects.filter(is_active=True)}
    clocks = dict(CustomerUpdateClock.objects.values_list("ticket_id", "due_at"))
    tickets = Ticket.objects.select_related("customer", "order", "order_item", "team")
    raised = set()

    for ticket in tickets.prefetch_related("messages"):
        # when: intake classifies the request and sends it to the template's team ...
        template = _template_of(ticket)
        routed = routing.classify(
            subject=ticket.subject, description=ticket.description, category=template.category,
            channel=ticket.channel, tier=ticket.customer.tier, priority=Priority.P3,
            request_reason=ticket.request_reason, config=config,
        )
        team = active_teams.get(template.team) or routed.team
        # ... and escalation takes it to the team of its complaint level, raising its priority
        level = ticket.complaint_level
        team = active_teams.get(escalation_team_code(level), team)
        priority = escalated_priority(priority=routed.priority, level=level)
        terms = sla.terms_for(priority=priority, complaint_level=level, config=config)
        due = sla.due_times(created_at=ticket.created_at, terms=terms,
                            paused_seconds=ticket.paused_seconds)

        # then
        assert (ticket.category, ticket.priority, ticket.team) == (
            routed.category, priority, team), ticket.subject
        assert ticket.first_response_due_at == due.first_response_due_at
        assert ticket.resolution_due_at == due.resolution_due_at
        if ticket.state in OPEN_STATES:
            assert clocks[ticket.pk] == sla.customer_update_due_at(
                after=_last_reply_at(ticket), terms=terms)
        assert re.fullmatch(r"CS\d{8}-\d{6}", ticket.number)
        day = timezone.localdate(ticket.created_at)
        assert ticket.number == format_ticket_number(day, int(ticket.number[-6:]))
        if priority != Priority.P3:
            raised.add(ticket.pk)

    # The rules did work on this load: some requests were raised, and not all of them.
    assert 0 < len(raised) < tickets.count()


def test_needs_someone_to_assign_tickets_to(db):
    with pytest.raises(ImproperlyConfigured):
        generate_tickets(5)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_load_ends_vacuumed_and_analysed_on_postgresql():
    """Right after a load the planner has statistics and index-only scans skip the heap."""
    from django.db import connection

    load_people()
    generate_tickets(N, batch_size=70, seed=7)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.last_vacuum IS NOT NULL, s.last_analyze IS NOT NULL, c.relallvisible"
            " FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid"
            " WHERE s.relname = %s", [Ticket._meta.db_table])
        vacuumed, analysed, all_visible_pages = cursor.fetchone()
    assert vacuumed
    assert analysed
    assert all_visible_pages > 0
