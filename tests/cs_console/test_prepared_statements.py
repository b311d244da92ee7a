"""On PostgreSQL a statement the connection runs again and again is prepared once."""

import pytest
from django.db import connection

from tickets.models import Ticket

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def prepared_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                       ["%tickets_ticket%number%"])
        return cursor.fetchone()[0]


def test_a_repeated_query_is_prepared_and_still_answers_by_its_parameters():
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    before = prepared_count()

    answers = [Ticket.objects.filter(number=f"CS-{n}").exists() for n in range(8)]

    assert answers == [False] * 8
    assert prepared_count() == before + 1
