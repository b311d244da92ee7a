"""API intake stays cheap: a fixed number of queries, the 201 body built without reading
back, routing configuration kept in memory while its version holds, the same history."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from core.models.roles import Integration
from core.services import audit_chain
from core.services.accounts import integration_account, integration_token, system_user
from desk.api.serializers import TicketDetailSerializer
from routing.models import AgentProfile, RoutingRule
from routing.services import assignment as routing
from routing.services.config import routing_config
from tests.factories import CustomerFactory, OrderItemFactory, TicketFactory
from tickets import selectors
from tickets.models import Team, Ticket, TicketState

# Written against English messages, as the ticket tests they came from.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]

# One intake by a channel integration, with an order and an item, routed to an agent:
# the token with its user, roles and permissions (1), the savepoint that stands for intake's
# transaction in a test (2), the order with its customer (1), the item (1), routing
# configuration version (1), the least-loaded agent with profiles (1), the system account
# that assigns (1), the day's ticket number (1), INSERTs of ticket, customer update clock,
# message, message history, the ticket's two history rows and the Idempotency-Key (6; the
# key is not looked up first). On PostgreSQL the ticket's and the message's keys are taken
# ahead (1) and those six INSERTs go in two statements (core.db.inserts.together): 12.
INTAKE_QUERIES = 15
INTAKE_QUERIES_POSTGRESQL = 12


def intake_queries():
    return INTAKE_QUERIES_POSTGRESQL if connection.vendor == "postgresql" else INTAKE_QUERIES


@pytest.fixture
def quality_desk(agent, senior_agent):
    """The quality team, which the intake below is routed to, with room for new work."""
    team = Team.objects.get(code="quality")
    team.members.add(agent, senior_agent)
    AgentProfile.objects.create(user=agent, skills=["quality"], capacity=50)
    AgentProfile.objects.create(user=senior_agent, skills=["quality"], capacity=50)
    return team


@pytest.fixture
def channel_api(db):
    user = integration_account(username="app_gateway", integration=Integration.CHANNEL)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + integration_token(user))
    client.account = user
    return client


def payload(item=None, **overrides):
    body = {
        "channel": "app",
        "customer": {"external_id": "KS90001", "name": "林晓雨", "phone": "13812345678"},
        "subject": "收到的耳机左耳没有声音",
        "description": "左耳没有声音，已重新配对，仍然无效。",
        "category": "quality_malfunction",
        "priority": 2,
    }
    if item is not None:
        body.update(order_number=item.order.number, sku=item.sku)
    body.update(overrides)
    return body


def post(client, body, key):
    return client.post(reverse("ticket-list"), body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.parametrize("history_per_agent", [0, 300])
def test_one_api_intake_costs_a_fixed_number_of_queries(
        channel_api, quality_desk, agent, senior_agent, history_per_agent):
    customer = CustomerFactory(external_id="KS90001")
    item = OrderItemFactory(order__customer=customer)
    Ticket.objects.bulk_create([
        TicketFactory.build(customer=customer, team=quality_desk, assignee=person,
                            state=TicketState.CLOSED)
        for person in (agent, senior_agent) for _ in range(history_per_agent)])
    system_user()  # made once, by the first automatic action of an installation
    post(channel_api, payload(item), "warm-up")  # the routing configuration is read once

    with CaptureQueriesContext(connection) as queries:
        response = post(channel_api, payload(item), "counted")

    assert response.status_code == 201, response.data
    assert response.data["assignee"] in ("agent_wang", "senior_li")
    assert len(queries) == intake_queries(), "\n".join(q["sql"][:120] for q in queries)


def inserted_tables(sql):
    return re.findall(r'INSERT INTO "(\w+)"', sql)


@pytest.mark.postgres
def test_the_days_counter_is_locked_for_the_tickets_own_inserts_only(
        channel_api, quality_desk, agent, senior_agent):
    """Every other creation waits for the day's counter until COMMIT: the rows that need
    only the ticket's key (clock, message, its history, the Idempotency-Key, in one
    statement) and the reads (the system account that assigns) come before it is taken,
    and one statement writes the ticket with its history after."""
    customer = CustomerFactory(external_id="KS90001")
    item = OrderItemFactory(order__customer=customer)
    system_user()
    post(channel_api, payload(item), "warm-up")

    with CaptureQueriesContext(connection) as queries:
        response = post(channel_api, payload(item), "counted")

    assert response.status_code == 201, response.data
    assert response.data["assignee"] in ("agent_wang", "senior_li")
    statements = [q["sql"] for q in queries]
    counter = next(i for i, sql in enumerate(statements)
                   if sql.startswith("UPDATE tickets_ticketnumbersequence"))
    locked = statements[counter + 1:]
    assert len(locked) == 2, locked
    assert inserted_tables(locked[0]) == ["tickets_ticket", "tickets_historicalticket"]
    assert locked[1].startswith("RELEASE SAVEPOINT")  # intake's transaction, in a test
    opening = [sql for sql in statements[:counter] if sql.startswith("WITH")]
    assert len(opening) == 1, statements
    assert sorted(inserted_tables(opening[0])) == [
        "sla_customerupdateclock", "tickets_historicalmessage", "tickets_intakekey",
        "tickets_message"]
    ticket = Ticket.objects.get(number=response.data["number"])
    assert ticket.messages.get().ticket_id == ticket.pk
    assert ticket.update_clock.due_at is not None
    assert [r.history_user_id for r in ticket.history.order_by("history_id")] == [
        channel_api.account.pk, system_user().pk]


@pytest.mark.parametrize("case", ["routed_with_order", "no_description", "unrouted"])
def test_the_201_body_is_what_reading_the_ticket_back_gives(channel_api, quality_desk, case):
    customer = CustomerFactory(external_id="KS90001", phone="13800000000")
    item = OrderItemFactory(order__customer=customer)
    body = {
        "routed_with_order": payload(item, customer={"external_id": "KS90001", "name": "别名",
                                                     "phone": "13812345678", "tier": "vip"}),
        "no_description": payload(description=""),
        "unrouted": payload(subject="请问发票怎么开", category="other"),
    }[case]
    if case == "unrouted":
        AgentProfile.objects.update(is_available=False)

    response = post(channel_api, body, f"case-{case}")

    assert response.status_code == 201, response.data
    ticket = selectors.ticket_get_with_timeline(number=response.data["number"])
    read_back = TicketDetailSerializer(ticket).data
    assert list(response.data) == list(read_back)
    assert response.data == read_back


def test_a_routed_intake_writes_creation_then_assignment_to_the_history(
        channel_api, quality_desk):
    response = post(channel_api, payload(), "history")

    ticket = Ticket.objects.get(number=response.data["number"])
    rows = list(ticket.history.order_by("history_id"))
    assert [(r.history_type, r.state, r.assignee_id, r.history_user_id) for r in rows] == [
        ("+", TicketState.NEW, None, channel_api.account.pk),
        ("~", TicketState.ASSIGNED, ticket.assignee_id, system_user().pk),
    ]
    assert rows[0].history_change_reason.startswith("create:app — ")
    assert rows[1].history_change_reason == "transition:assign — routing"
    assert rows[1].history_date >= rows[0].history_date
    message_rows = list(ticket.messages.get().history.all())
    assert [(r.history_type, r.history_change_reason) for r in message_rows] == [
        ("+", "message:inbound")]
    for model, object_id in ((Ticket.history.model, ticket.pk),
                             (message_rows[0].__class__, message_rows[0].id)):
        assert list(audit_chain.verify(model, object_id=object_id)) == []


def test_a_retry_answers_from_the_first_intake(channel_api, quality_desk):
    first = post(channel_api, payload(), "again")

    again = post(channel_api, payload(), "again")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.data == TicketDetailSerializer(
        selectors.ticket_get_with_timeline(number=first.data["number"])).data


def test_the_routing_configuration_is_read_once_while_its_version_holds():
    routing_config()

    with CaptureQueriesContext(connection) as queries:
        config = routing_config()

    assert len(queries) == 1  # the version
    assert config.default_team.code == "after_sales"


@pytest.mark.parametrize("change", ["rule", "sla_policy", "team"])
def test_any_write_to_the_routing_tables_is_seen_by_the_next_ticket(change):
    """Even a bulk UPDATE, which sends no signal: the triggers move the version."""
    before = routing_config()
    if change == "rule":
        RoutingRule.objects.filter(keywords__contains="发票").delete()
        RoutingRule.objects.create(name="发票 → 支付组", order=0, keywords="发票",
                                   team=Team.objects.get(code="payment"))
    elif change == "sla_policy":
        from sla.models import SlaPolicy

        SlaPolicy.objects.filter(priority=2).update(first_response_minutes=7)
    else:
        Team.objects.filter(code="after_sales").update(is_active=False)

    after = routing_config()

    assert after is not before
    if change == "rule":
        routed = routing.classify(subject="请问发票怎么开", description="", category="",
                                  channel="app", tier="normal", priority=2)
        assert routed.team.code == "payment"
    elif change == "sla_policy":
        assert all(p.first_response_minutes == 7
                   for (priority, _level), p in after.sla_policies.items() if priority == 2)
    else:
        assert after.default_team is None


def test_intake_serializers_share_no_state_between_requests():
    from desk.api.serializers import IntakeSerializer

    bad = IntakeSerializer(data=payload(channel="carrier_pigeon", customer={"name": "甲"}))
    good = IntakeSerializer(data=payload())

    assert not bad.is_valid()
    assert good.is_valid(), good.errors
    assert set(bad.errors) == {"channel", "customer"}
    assert good.validated_data["customer"]["external_id"] == "KS90001"
    # The declared fields stay unbound prototypes; each instance binds its own copies.
    assert all(field.parent is None for field in IntakeSerializer._declared_fields.values())
    assert bad.fields["channel"] is not good.fields["channel"]
