"""An unfiltered queue page reads its rows with a query compiled once per shape: the same rows,
in the same order, as the query built for each request."""

import itertools
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from core.models.roles import Role
from tests.factories import TeamFactory, TicketFactory, UserFactory
from tests.plans import generic_plan, plan_nodes
from tickets import selectors
from tickets.models import ComplaintLevel, Ticket, TicketState
from tickets.selectors import QUEUE_ROW_COLUMNS, QUEUES, SORTS, ticket_queue_page

pytestmark = pytest.mark.django_db

S = TicketState


@pytest.fixture
def tickets(agent, other_agent, supervisor):
    """Open and closed tickets across two teams, none, and every assignee case."""
    north, south = TeamFactory(code="north"), TeamFactory(code="south")
    north.members.add(agent, other_agent)
    south.members.add(agent)
    west = TeamFactory(code="west")
    west.members.add(supervisor)
    states = [S.NEW, S.IN_PROGRESS, S.PENDING_CUSTOMER, S.PENDING_INTERNAL, S.RESOLVED]
    now = timezone.now()
    for index, (team, assignee, state, level) in enumerate(itertools.product(
            [north, south, west, None], [agent, other_agent, None], states,
            [ComplaintLevel.NONE, ComplaintLevel.L1])):
        TicketFactory(team=team, assignee=assignee, state=state, complaint_level=level,
                      priority=index % 4, created_at=now - timedelta(minutes=index),
                      resolution_due_at=now + timedelta(minutes=37 * index % 300 - 60))
    return {"north": north, "south": south}


def built_each_time(user, queue, sort, start):
    now = timezone.now()
    return [tuple(row) for row in selectors._queue_tickets(user, queue, now)
            .order_by(*SORTS[sort]).values_list(*QUEUE_ROW_COLUMNS)
            [start:start + selectors.QUEUE_PAGE_SIZE + 1]]


def in_no_team(role):
    user = UserFactory()
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.mark.parametrize("sort", list(SORTS))
def test_every_queue_reads_the_rows_the_built_query_reads(tickets, agent, other_agent,
                                                         supervisor, sort):
    users = [agent, other_agent, supervisor, in_no_team(Role.AGENT),
             in_no_team(Role.SUPERVISOR)]
    for user, queue, start in itertools.product(users, QUEUES, [0, 50]):
        user = type(user).objects.get(pk=user.pk)  # fresh: no cached teams or permissions
        rows = selectors._page_rows(user, queue, {}, sort, start, timezone.now())

        assert [tuple(row) for row in rows] == built_each_time(user, queue, sort, start), (
            user.username, queue)


def test_the_default_views_use_the_compiled_query_and_filters_build_theirs(tickets, agent):
    selectors._COMPILED_PAGES.clear()
    for queue in QUEUES:
        ticket_queue_page(user=agent, queue=queue)
    shapes = {shape[0] for shape in selectors._COMPILED_PAGES}
    assert shapes == set(QUEUES) - {"at_risk", "breached"}  # their rows depend on the time

    compiled = dict(selectors._COMPILED_PAGES)
    page = ticket_queue_page(user=agent, queue="team", filters={"priority": 1})

    assert dict(selectors._COMPILED_PAGES) == compiled  # nothing compiled for a filter
    assert {row.priority for row in page.tickets} == {1}


def test_an_agent_s_compiled_page_is_not_another_agent_s(tickets, agent, other_agent):
    """The same shape (one agent in two teams, the other in one): ids are values, not SQL."""
    mine = {row.pk for row in ticket_queue_page(user=agent, queue="mine").tickets}
    theirs = {row.pk for row in ticket_queue_page(user=other_agent, queue="mine").tickets}

    assert mine
    assert theirs
    assert not mine & theirs


@pytest.mark.postgres
@pytest.mark.parametrize("queue", ["mine", "team", "escalated"])
def test_the_plan_prepared_for_any_ids_still_reads_an_open_ticket_index(tickets, agent, queue):
    """The statement is prepared with the open states written in, so PostgreSQL's generic
    plan (one plan for any ids, used after five runs) can prove a partial index's condition."""
    from django.db import connection

    teams = sorted(selectors.user_team_ids(agent))
    compiled = selectors._compiled_page(queue, sort="priority", start=0, sees_all=False,
                                        team_count=len(teams))
    statement = compiled._sql(connection.alias)
    assert "'pending_customer'" in statement.sql
    ids = {f"team_{index}": team for index, team in enumerate(teams)} | {"user_id": agent.pk}
    by_stand_in = {compiled._stand_ins[name]: ids[name] for name in compiled.names}
    params = [by_stand_in[value] for value in statement.params]  # the ids, nothing else
    # Seq scans off: on a table this small one would win; the question is whether the
    # generic plan may use the partial indexes at all.
    plan = generic_plan(statement.sql, params, seqscan=False)
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s "
                       "AND indexdef LIKE %s", [Ticket._meta.db_table, "% WHERE %"])
        partial = {name for (name,) in cursor.fetchall()}

    read = {node["Index Name"] for node in plan_nodes(plan)
            if node.get("Index Name", "").startswith("ticket_")}
    # Only indexes whose condition the statement states; with the states as parameters the
    # generic plan could use none of them and would read a full index instead.
    assert read, plan
    assert read <= partial, plan
