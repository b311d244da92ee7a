"""ORM queries compiled once and run with each call's ids (core.db.compiled)."""

import pytest

from core.db.compiled import CompiledQuery
from tests.factories import TeamFactory, UserFactory
from tickets.models import Team

pytestmark = pytest.mark.django_db


def _team_ids_of(user_id):
    return Team.objects.filter(members=user_id).order_by("id").values_list("id")


def test_each_call_reads_its_own_ids_from_the_one_compiled_statement(django_assert_num_queries):
    first, second, nobody = UserFactory(), UserFactory(), UserFactory()
    teams = TeamFactory.create_batch(3)
    teams[0].members.add(first)
    teams[1].members.add(first, second)
    teams[2].members.add(second)
    query = CompiledQuery(_team_ids_of, "user_id")
    expected = list(_team_ids_of(first.pk))

    with django_assert_num_queries(3):
        assert query.rows(user_id=first.pk) == expected
        assert query.rows(user_id=second.pk) == [(teams[1].pk,), (teams[2].pk,)]
        assert query.count(user_id=nobody.pk) == 0
    assert query.count(user_id=first.pk) == 2


def test_a_query_that_does_not_take_the_id_as_a_parameter_is_refused():
    query = CompiledQuery(lambda user_id: Team.objects.values_list("id"), "user_id")

    with pytest.raises(ValueError, match="user_id"):
        query.rows(user_id=1)


def test_every_id_must_be_given():
    query = CompiledQuery(_team_ids_of, "user_id")

    with pytest.raises(TypeError):
        query.rows()
