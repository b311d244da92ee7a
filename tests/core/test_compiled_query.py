"""ORM queries compiled once and run with each call's ids (core.db.compiled)."""

import pytest

from core.db.compiled import CompiledQuery, concrete_columns
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


def test_text_values_and_model_instances(django_assert_num_queries):
    from shop.models import Customer
    from tests.factories import CustomerFactory

    wanted, other = CustomerFactory(external_id="TM-1"), CustomerFactory(external_id="TM-2")
    query = CompiledQuery(lambda external_id: Customer.objects.filter(external_id=external_id),
                          texts=("external_id",))

    with django_assert_num_queries(2):
        [found] = query.instances(external_id="TM-1")
        assert query.instances(external_id="no such customer") == []
    assert found == wanted
    assert (found.name, found.tier) == (wanted.name, wanted.tier)
    assert found.created_at == wanted.created_at  # converted as the ORM converts it
    assert found._state.adding is False
    assert query.instances(external_id="TM-2") == [other]
    with pytest.raises(TypeError, match="text"):
        query.instances(external_id=None)  # never the text "None"


def test_instances_need_a_plain_query_of_the_model():
    query = CompiledQuery(lambda user_id: Team.objects.filter(members=user_id).values("id"),
                          "user_id")

    with pytest.raises(TypeError):
        query.instances(user_id=1)


def test_values_come_back_as_the_orm_gives_them():
    from shop.models import Order
    from tests.factories import OrderFactory

    order = OrderFactory()
    query = CompiledQuery(
        lambda number: Order.objects.filter(number=number).values_list("paid_amount", "paid_at"),
        texts=("number",))

    assert query.rows(number=order.number) == list(
        Order.objects.filter(pk=order.pk).values_list("paid_amount", "paid_at"))


def test_joined_instances_give_each_model_its_own_columns(django_assert_num_queries):
    from shop.models import Customer, Order
    from tests.factories import OrderFactory

    order, other = OrderFactory(), OrderFactory()
    query = CompiledQuery(
        lambda number: Order.objects.filter(number=number).values_list(
            *concrete_columns(Order), *concrete_columns(Customer, "customer")),
        texts=("number",))

    with django_assert_num_queries(2):
        [(found, customer)] = query.joined_instances(Order, Customer, number=order.number)
        assert query.joined_instances(Order, Customer, number="no such order") == []
    assert (found, customer) == (order, order.customer)
    for model, instance, expected in ((Order, found, order), (Customer, customer, order.customer)):
        expected.refresh_from_db()  # the values as the database gives them back
        assert {f.attname: getattr(instance, f.attname) for f in model._meta.concrete_fields} == {
            f.attname: getattr(expected, f.attname) for f in model._meta.concrete_fields}
        assert instance._state.adding is False
    assert query.joined_instances(Order, Customer, number=other.number)[0][1] == other.customer
    with pytest.raises(TypeError, match="columns"):
        query.joined_instances(Order, number=order.number)


def _named_like(user_id, pattern="5% o'clock"):
    # A constant of the query's own (the pattern), with a "%" and a quote to be written in.
    return (Team.objects.filter(members=user_id, name__contains=pattern).order_by("id")
            .values_list("id"))


@pytest.mark.postgres
def test_literal_constants_leave_only_the_callers_values_as_parameters():
    from django.db import connection

    member = UserFactory()
    wanted = TeamFactory(name="Desk at 5% o'clock")
    wanted.members.add(member)
    TeamFactory(name="Desk at 6 o'clock").members.add(member)
    query = CompiledQuery(_named_like, "user_id", prepare=True, literal_constants=True)

    assert query.rows(user_id=member.pk) == [(wanted.pk,)]
    compiled = query._compiled[connection.alias]
    assert "o''clock" in compiled.sql  # written in, quoted by the driver
    assert len(compiled.params) == 1  # the user id; the pattern is part of the statement
    assert query.rows(user_id=UserFactory().pk) == []


def test_without_preparing_every_value_stays_a_parameter():
    query = CompiledQuery(_named_like, "user_id", literal_constants=True)
    member = UserFactory()

    assert query.rows(user_id=member.pk) == []
    [compiled] = query._compiled.values()
    assert "clock" not in compiled.sql
    assert len(compiled.params) == 2
