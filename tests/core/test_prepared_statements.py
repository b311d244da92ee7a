"""Prepared statements for chosen reads and writes (core.db.prepared), PostgreSQL only."""

import pytest
from django.db import connection
from django.urls import reverse

from core.db.prepared import prepared_statements
from tests.factories import TicketFactory
from tickets.models import TicketState

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_only_the_statements_in_the_block_are_prepared():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 AS before_the_block")
    with prepared_statements(), connection.cursor() as cursor:
        cursor.execute("SELECT %s::int AS within_the_block", [2])
        assert cursor.fetchone() == (2,)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 3 AS after_the_block")

    statements = " ".join(_prepared())
    assert "within_the_block" in statements
    assert "before_the_block" not in statements
    assert "after_the_block" not in statements


@pytest.mark.parametrize("setting", [{"PREPARED_STATEMENTS": False},
                                     {"DATABASE_POOLER": "pgbouncer-transaction"}])
def test_nothing_is_prepared_when_turned_off_or_behind_a_transaction_pooler(
        settings, setting):
    for name, value in setting.items():
        setattr(settings, name, value)
    with prepared_statements(), connection.cursor() as cursor:
        cursor.execute("SELECT 1 AS turned_off")

    assert not any("turned_off" in statement for statement in _prepared())


def test_a_failing_statement_in_the_block_leaves_the_connection_as_it_was():
    factory = connection.connection.cursor_factory
    with pytest.raises(ZeroDivisionError), prepared_statements():
        raise ZeroDivisionError

    assert connection.connection.cursor_factory is factory
    assert connection.connection.prepare_threshold is None


def test_the_workspace_prepares_the_ticket_but_not_the_unread_badge(
        client, agent):
    """The unread badge's best plan is a partial index only its values can match, so it must
    stay unprepared; the ticket's read by key is prepared."""
    ticket = TicketFactory(assignee=agent, state=TicketState.IN_PROGRESS)
    client.force_login(agent)

    response = client.get(reverse("console-ticket", args=[ticket.number]))

    assert response.status_code == 200
    statements = _prepared()
    assert any('FROM "tickets_ticket"' in statement and '"tickets_ticket"."number"' in statement
               for statement in statements), statements
    assert not any("notifications_outboxmessage" in statement for statement in statements)


def test_the_query_log_shows_a_prepared_statement_with_its_values():
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries, prepared_statements(), \
            connection.cursor() as cursor:
        cursor.execute("SELECT %s::int AS logged_value", [41])

    assert queries.captured_queries[-1]["sql"] == "SELECT 41::int AS logged_value"



@pytest.mark.django_db(transaction=True)
def test_a_prepared_user_read_survives_a_column_added_by_a_migration(agent):
    """A web process keeps its prepared statements while a deployment migrates from another
    connection: a column added to the user table must not break the reads it prepared
    (PostgreSQL refuses a prepared `u.*` whose columns changed)."""
    from django.db import connections
    from rest_framework.authtoken.models import Token

    from core.api.token_auth import TokenAuthentication

    token = Token.objects.create(user=agent)
    authentication = TokenAuthentication()
    with prepared_statements():
        authentication.authenticate_credentials(token.key)
    migration = connections.create_connection("default")
    try:
        with migration.cursor() as cursor:
            cursor.execute("ALTER TABLE cs_console_user ADD COLUMN added_later integer")
        with prepared_statements():
            user, _token = authentication.authenticate_credentials(token.key)
    finally:
        with migration.cursor() as cursor:
            cursor.execute("ALTER TABLE cs_console_user DROP COLUMN IF EXISTS added_later")
        migration.close()

    assert user == agent
