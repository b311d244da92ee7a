"""The REST ticket list pages by cursor: complete, in order, stable under inserts, strict."""

import base64
import json
from datetime import timedelta

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core.api.keyset import encode_cursor
from desk.api.pagination import TicketListPagination
from tests.factories import CustomerFactory, TeamFactory, TicketFactory
from tests.plans import plan_nodes
from tickets.models import Ticket, TicketState

# Written against English messages, as the ticket tests they came from.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]

URL = "/api/v1/tickets/"
SORT_KEYS = {
    "urgency": lambda t: (t.priority, t.created_at, t.id),
    "created": lambda t: (t.created_at, t.id),
    "-created": lambda t: (-t.created_at.timestamp(), -t.id),
}


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def make_spread(team, *, count=11, tied=4):
    """Tickets over every priority, `tied` of them opened at the very same instant."""
    start = timezone.now() - timedelta(days=3)
    tickets = []
    for index in range(count):
        at = start if index < tied else start + timedelta(minutes=index)
        tickets.append(TicketFactory(team=team, priority=index % 4, created_at=at))
    return tickets


def walk(client, params, *, limit=100):
    """Follow `next` from the first page; return the pages' ticket numbers and the bodies."""
    pages, bodies = [], []
    response = client.get(URL, params)
    while True:
        assert response.status_code == 200, response.data
        bodies.append(response.data)
        pages.append([row["number"] for row in response.data["results"]])
        if response.data["next"] is None or len(pages) > limit:
            return pages, bodies
        response = client.get(response.data["next"])


def walk_back(client, body, *, limit=100):
    """Follow `previous` from a page; return the earlier pages' numbers, nearest first."""
    pages = []
    while body["previous"] is not None and len(pages) <= limit:
        response = client.get(body["previous"])
        assert response.status_code == 200, response.data
        body = response.data
        pages.append([row["number"] for row in body["results"]])
    return pages


# --- completeness and order ----------------------------------------------------------------
@pytest.mark.parametrize("ordering", ["urgency", "created", "-created"])
def test_walking_forward_and_back_yields_every_ticket_once_in_order(supervisor, team, ordering):
    tickets = make_spread(team)
    expected = [t.number for t in sorted(tickets, key=SORT_KEYS[ordering])]
    client = client_for(supervisor)

    pages, bodies = walk(client, {"ordering": ordering, "page_size": 3})

    assert [len(page) for page in pages] == [3, 3, 3, 2]
    assert [number for page in pages for number in page] == expected
    assert bodies[0]["previous"] is None
    assert bodies[-1]["next"] is None
    back = walk_back(client, bodies[-1])
    assert back == pages[-2::-1]


def test_the_default_order_is_most_urgent_then_oldest(supervisor, team):
    tickets = make_spread(team, count=6, tied=3)
    expected = [t.number for t in sorted(tickets, key=SORT_KEYS["urgency"])]

    body = client_for(supervisor).get(URL).data

    assert [row["number"] for row in body["results"]] == expected
    assert (body["count"], body["count_is_exact"], body["next"], body["previous"]) == (
        6, True, None, None)


def test_filters_and_ordering_are_kept_in_the_links(supervisor, team):
    for index in range(5):
        TicketFactory(team=team, priority=1, channel="email",
                      created_at=timezone.now() - timedelta(hours=index))
    TicketFactory(team=team, priority=1, channel="phone")

    pages, bodies = walk(client_for(supervisor),
                         {"channel": "email", "ordering": "-created", "page_size": 2})

    assert [len(page) for page in pages] == [2, 2, 1]
    assert all(body["count"] == 5 for body in bodies)
    assert "channel=email" in bodies[0]["next"]
    assert "ordering=-created" in bodies[0]["next"]


def test_tickets_opened_mid_walk_neither_repeat_nor_hide_earlier_ones(supervisor, team):
    tickets = make_spread(team, count=9, tied=3)
    expected = [t.number for t in sorted(tickets, key=SORT_KEYS["urgency"])]
    client = client_for(supervisor)
    first = client.get(URL, {"page_size": 4}).data
    # One that sorts before the page just read, one that sorts after it.
    before = TicketFactory(team=team, priority=0, created_at=timezone.now() - timedelta(days=30))
    after = TicketFactory(team=team, priority=3, created_at=timezone.now())

    seen = [row["number"] for row in first["results"]]
    response = client.get(first["next"])
    while True:
        seen += [row["number"] for row in response.data["results"]]
        if response.data["next"] is None:
            break
        response = client.get(response.data["next"])

    assert before.number not in seen  # sorted before the cursor: the next pages skip it
    assert seen == [*expected, after.number]
    assert len(seen) == len(set(seen))


# --- visibility ----------------------------------------------------------------------------
def test_an_agent_never_sees_other_teams_tickets_on_any_page(agent, other_agent, team):
    finance = TeamFactory(code="finance")
    mine = make_spread(team, count=7, tied=2)
    unrouted = TicketFactory(team=None, priority=2)
    assigned_elsewhere = TicketFactory(team=finance, assignee=agent, state=TicketState.ASSIGNED)
    hidden = [TicketFactory(team=finance, priority=index % 4) for index in range(6)]
    visible = {t.number for t in [*mine, unrouted, assigned_elsewhere]}

    for ordering in ("urgency", "created", "-created"):
        pages, bodies = walk(client_for(agent), {"ordering": ordering, "page_size": 2})
        numbers = [number for page in pages for number in page]
        assert set(numbers) == visible
        assert len(numbers) == len(visible)
        assert all(body["count"] == len(visible) for body in bodies)
    assert not {t.number for t in hidden} & visible


def test_a_cursor_from_another_user_shows_only_what_the_holder_may_read(agent, supervisor, team):
    finance = TeamFactory(code="finance")
    old = timezone.now() - timedelta(days=5)
    TicketFactory(team=team, priority=0, created_at=old)
    hidden = TicketFactory(team=finance, priority=0, created_at=old + timedelta(minutes=1))
    TicketFactory(team=team, priority=0, created_at=old + timedelta(minutes=2))
    supervisors_next = client_for(supervisor).get(URL, {"page_size": 1}).data["next"]

    rows = client_for(agent).get(supervisors_next).data["results"]

    assert hidden.number not in [row["number"] for row in rows]
    assert len(rows) == 1


# --- the capped count ----------------------------------------------------------------------
def test_the_count_is_exact_up_to_the_cap_and_says_so_above_it(supervisor, team, monkeypatch):
    monkeypatch.setattr(TicketListPagination, "count_cap", 4)
    make_spread(team, count=4, tied=0)
    client = client_for(supervisor)

    assert (client.get(URL).data["count"], client.get(URL).data["count_is_exact"]) == (4, True)
    TicketFactory(team=team)
    body = client.get(URL, {"page_size": 2}).data
    assert (body["count"], body["count_is_exact"]) == (4, False)
    assert client.get(URL, {"priority": "P0"}).data["count_is_exact"] is True


# --- bad input -----------------------------------------------------------------------------
def _b64(payload) -> str:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


NOW = "2026-01-01T08:00:00+08:00"
BAD_CURSORS = {
    "not base64": "!!!",
    "not json": _b64("priority=1"),
    "a list": _b64([1, 2, 3]),
    "missing key": _b64({"o": "urgency", "d": "n"}),
    "extra key": _b64({"o": "urgency", "d": "n", "k": [1, NOW, 5], "x": 1}),
    "bad direction": _b64({"o": "urgency", "d": "up", "k": [1, NOW, 5]}),
    "too few values": _b64({"o": "urgency", "d": "n", "k": [1, NOW]}),
    "id as text": _b64({"o": "urgency", "d": "n", "k": [1, NOW, "5"]}),
    "id as bool": _b64({"o": "urgency", "d": "n", "k": [1, NOW, True]}),
    "id out of range": _b64({"o": "urgency", "d": "n", "k": [1, NOW, 2**70]}),
    "no such priority": _b64({"o": "urgency", "d": "n", "k": [9, NOW, 5]}),
    "naive time": _b64({"o": "urgency", "d": "n", "k": [1, "2026-01-01T08:00:00", 5]}),
    "not a time": _b64({"o": "urgency", "d": "n", "k": [1, "yesterday", 5]}),
    "time as number": _b64({"o": "urgency", "d": "n", "k": [1, 1767225600, 5]}),
    "too long": "A" * 600,
    "null bytes": _b64("\x00\x00"),
}


@pytest.mark.parametrize("cursor", BAD_CURSORS.values(), ids=BAD_CURSORS.keys())
def test_a_bad_cursor_answers_404(supervisor, team, cursor):
    TicketFactory(team=team)

    response = client_for(supervisor).get(URL, {"cursor": cursor})

    assert response.status_code == 404
    assert "cursor" in response.data


def test_a_cursor_of_another_ordering_answers_404(supervisor, team):
    TicketFactory(team=team)
    cursor = encode_cursor_for("created", [NOW, 5])

    response = client_for(supervisor).get(URL, {"cursor": cursor, "ordering": "urgency"})

    assert response.status_code == 404
    assert "another ordering" in str(response.data["cursor"][0])


def encode_cursor_for(ordering, values, direction="n"):
    from core.api.keyset import Position

    return encode_cursor(Position(ordering, direction, values))


def test_a_well_formed_cursor_is_accepted(supervisor, team):
    TicketFactory(team=team, priority=3)

    response = client_for(supervisor).get(URL, {"cursor": encode_cursor_for("urgency",
                                                                             [1, NOW, 5])})

    assert response.status_code == 200
    assert len(response.data["results"]) == 1


@pytest.mark.parametrize("size", ["0", "201", "abc", "-1", "1.5", "", " 5", "٣"])
def test_page_size_outside_1_to_200_answers_400(supervisor, size):
    response = client_for(supervisor).get(URL, {"page_size": size})

    assert response.status_code == 400
    assert "page_size" in response.data


def test_page_size_1_and_200_are_accepted(supervisor, team):
    make_spread(team, count=3, tied=0)
    client = client_for(supervisor)

    assert len(client.get(URL, {"page_size": 1}).data["results"]) == 1
    assert len(client.get(URL, {"page_size": 200}).data["results"]) == 3


def test_an_unknown_ordering_or_a_page_number_answers_400(supervisor):
    client = client_for(supervisor)

    assert "ordering" in client.get(URL, {"ordering": "subject"}).data
    assert client.get(URL, {"ordering": "subject"}).status_code == 400
    response = client.get(URL, {"page": 2})
    assert response.status_code == 400
    assert "page" in response.data


# --- cost ----------------------------------------------------------------------------------
def count_queries(client, url, params=None) -> int:
    # A fresh user object each time, so permission and role caches start empty.
    user = client.handler._force_user
    client.force_authenticate(type(user).objects.get(pk=user.pk))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("persona", ["supervisor", "agent"])
def test_every_page_costs_the_same_few_queries(request, persona, team):
    user = request.getfixturevalue(persona)
    make_spread(team, count=12, tied=3)
    client = client_for(user)
    first = client.get(URL, {"page_size": 5}).data
    last = client.get(first["next"]).data
    last = client.get(last["next"]).data
    assert last["next"] is None

    counts = [count_queries(client, URL, {"page_size": 5}),
              count_queries(client, first["next"]),
              count_queries(client, last["previous"])]

    # Roles with permissions (1), an agent's teams (1), the capped count, the page, its tags.
    assert counts == [5 if persona == "agent" else 4] * 3


# --- the plan on PostgreSQL ----------------------------------------------------------------
@pytest.mark.postgres
def test_a_deep_page_for_a_supervisor_is_an_index_range_read(supervisor, team):
    customer = CustomerFactory()
    start = timezone.now() - timedelta(days=60)
    Ticket.objects.bulk_create([
        TicketFactory.build(customer=customer, team=team, priority=index % 4,
                            created_at=start + timedelta(seconds=index // 3),
                            state=TicketState.CLOSED)
        for index in range(6000)
    ], batch_size=1000)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Ticket._meta.db_table}")
    client = client_for(supervisor)
    page = client.get(URL, {"page_size": 50}).data
    for _ in range(10):
        page = client.get(page["next"]).data

    with CaptureQueriesContext(connection) as queries:
        response = client.get(page["next"])
    assert response.status_code == 200
    page_sql = next(q["sql"] for q in queries.captured_queries
                    if q["sql"].startswith('SELECT "tickets_ticket"."id"'))
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {page_sql}")
        plan = cursor.fetchone()[0][0]["Plan"]

    nodes = list(plan_nodes(plan))
    assert not [node for node in nodes if node["Node Type"] in ("Sort", "Incremental Sort")], plan
    scans = [node for node in nodes if node.get("Relation Name") == Ticket._meta.db_table]
    assert [(node["Node Type"], node.get("Index Name")) for node in scans] == [
        ("Index Scan", "ticket_urgency_idx")], plan
    # A range read: the page and the one row that says another page follows, nothing more.
    assert scans[0]["Actual Rows"] == 51, plan


# --- the published contract ----------------------------------------------------------------
def test_the_schema_documents_the_cursor_contract(supervisor):
    schema = yaml.safe_load(client_for(supervisor).get(reverse("api-schema")).content)
    operation = schema["paths"]["/api/v1/tickets/"]["get"]

    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"cursor", "ordering", "page_size", "state", "team"} <= names
    assert "page" not in names
    ordering = next(p for p in operation["parameters"] if p["name"] == "ordering")
    assert ordering["schema"]["enum"] == ["urgency", "created", "-created"]
    envelope_ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    envelope = schema["components"]["schemas"][envelope_ref.rsplit("/", 1)[1]]
    assert set(envelope["required"]) == {"count", "count_is_exact", "next", "previous", "results"}


def test_filters_by_code_name_or_number_match_exactly_and_unknown_ones_match_nothing(
        supervisor, agent, team):
    ticket = TicketFactory(team=team, assignee=agent, state=TicketState.ASSIGNED)
    TicketFactory(team=TeamFactory(code="finance"))
    client = client_for(supervisor)

    for params in ({"team": "after_sales"}, {"assignee": agent.username},
                   {"customer": ticket.customer.external_id}):
        body = client.get(URL, params).data
        assert [row["number"] for row in body["results"]] == [ticket.number], params
    for params in ({"team": "nobody"}, {"assignee": "nobody"}, {"customer": "nobody"}):
        body = client.get(URL, params).data
        assert (body["count"], body["results"], body["next"]) == (0, [], None), params
