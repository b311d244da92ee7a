"""INSERTs built once and run with each call's rows (core.db.inserts)."""

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.db import inserts
from core.db.inserts import insert_new, upsert
from core.services.audit import history_row, write_history
from sla.models import CustomerUpdateClock
from tests.factories import CustomerFactory, TeamFactory, TicketFactory, UserFactory
from tickets.models import IntakeKey, Message, Team

pytestmark = pytest.mark.django_db


def test_a_new_row_gets_its_key_and_reads_back_as_save_would_have_written_it():
    ticket, user = TicketFactory(), UserFactory()
    key = IntakeKey(user=user, key="k-1", fingerprint="f" * 64, ticket=ticket)

    insert_new([key])

    assert key.pk is not None
    assert key._state.adding is False
    stored = IntakeKey.objects.get(pk=key.pk)
    assert (stored.user_id, stored.key, stored.ticket_id) == (user.pk, "k-1", ticket.pk)
    assert stored.created_at == key.created_at is not None  # auto_now_add, as save() sets it


def test_several_rows_in_one_statement_get_their_keys_in_order(django_assert_num_queries):
    ticket, author = TicketFactory(), UserFactory()
    messages = [Message(ticket=ticket, kind="note", body=f"第{n}条", author=author,
                        created_at=timezone.now()) for n in range(3)]

    with django_assert_num_queries(1):
        insert_new(messages)

    assert [Message.objects.get(pk=m.pk).body for m in messages] == ["第0条", "第1条", "第2条"]


def test_the_statement_is_built_once_per_model_and_row_count(monkeypatch):
    teams = [Team(code="t-a", name="A"), Team(code="t-b", name="B")]
    insert_new(teams[:1])
    monkeypatch.setattr(inserts, "_build", lambda *args: pytest.fail("built again"))

    insert_new(teams[1:])

    assert Team.objects.filter(code__in=["t-a", "t-b"]).count() == 2


def test_history_rows_written_through_it_keep_their_chain():
    from core.services.audit import history_model_of
    from core.services.audit_chain import verify

    actor = UserFactory()
    message = Message(ticket=TicketFactory(), kind="note", body="备注", author=actor,
                      created_at=timezone.now())
    insert_new([message])
    rows = [history_row(message, actor=actor, reason="message:note", history_type="+",
                        when=timezone.now()),
            history_row(message, actor=actor, reason="edit", history_type="~",
                        when=timezone.now(), values={"body": "改过的备注"})]
    write_history(rows, new_object=True)

    assert all(row.history_id for row in rows)
    assert rows[1].chain_prev == rows[0].chain_hash != ""
    assert not list(verify(history_model_of(Message), object_id=message.pk))


def test_a_violated_constraint_is_django_s_integrity_error_and_writes_nothing():
    team = TeamFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        insert_new([Team(code="new-1", name="x"), Team(code=team.code, name="dup")])

    assert not Team.objects.filter(code="new-1").exists()


def test_an_unsaved_related_object_is_refused_as_save_refuses_it():
    ticket = TicketFactory()

    with pytest.raises(ValueError, match="unsaved"):
        insert_new([IntakeKey(user=UserFactory.build(), key="k", fingerprint="f", ticket=ticket)])


def test_expressions_and_guarded_models_are_refused():
    from shop.models import Order

    with pytest.raises(TypeError, match="expressions"):
        insert_new([Team(code="t-x", name=F("code"))])
    # Orders carry the legal hold's pre_save guard: only save() may write them.
    with pytest.raises(TypeError, match="pre_save"):
        insert_new([Order(number="O-1", customer=CustomerFactory())])


def test_upsert_inserts_a_row_then_updates_it():
    ticket = TicketFactory()
    CustomerUpdateClock.objects.filter(ticket=ticket).delete()
    first, later = timezone.now(), timezone.now() + timezone.timedelta(hours=2)

    upsert([CustomerUpdateClock(ticket=ticket, due_at=first)], unique_fields=["ticket"],
           update_fields=["due_at"])
    upsert([CustomerUpdateClock(ticket=ticket, due_at=later)], unique_fields=["ticket"],
           update_fields=["due_at"])

    assert CustomerUpdateClock.objects.get(ticket=ticket).due_at == later


def test_rows_with_keys_taken_ahead_are_inserted_with_them(django_assert_num_queries):
    from django.db import connection

    from core.db.inserts import reserve_keys

    keys = reserve_keys(Team, 2)
    if connection.vendor != "postgresql":
        assert keys is None  # SQLite: a row's key comes with its INSERT
        return
    assert len(keys) == 2
    assert keys[0] < keys[1]
    assert reserve_keys(Team)[0] > keys[1]  # never handed out twice
    teams = [Team(pk=key, code=f"ahead{key}", name=f"提前{key}") for key in keys]

    with django_assert_num_queries(1):
        insert_new(teams)

    assert list(Team.objects.filter(pk__in=keys).order_by("pk").values_list("pk", "code")) == [
        (key, f"ahead{key}") for key in keys]
    assert Team.objects.create(code="after", name="之后").pk > keys[1]  # the sequence moved on
    with pytest.raises(TypeError, match="all have their keys"):
        insert_new([Team(pk=reserve_keys(Team)[0], code="x", name="x"), Team(code="y", name="y")])


# --- together(): the INSERTs of a block in one statement ---------------------------------
def test_rows_written_together_are_all_there_with_their_keys(django_assert_num_queries):
    from django.db import connection

    ticket, author = TicketFactory(), UserFactory()
    key = IntakeKey(user=author, key="together", fingerprint="f" * 64, ticket=ticket)
    messages = [Message(ticket=ticket, kind="note", body=f"第{n}条", author=author,
                        created_at=timezone.now()) for n in range(2)]
    clock = CustomerUpdateClock(ticket=ticket, due_at=timezone.now())
    one_statement = connection.vendor == "postgresql"

    with (transaction.atomic(), django_assert_num_queries(1 if one_statement else 3),
          inserts.together()):
        insert_new([key])
        insert_new(messages)
        upsert([clock], unique_fields=["ticket"], update_fields=["due_at"])
        if one_statement:
            assert key.pk is None  # queued: keys come when the block ends

    assert key.pk == IntakeKey.objects.get(key="together").pk
    assert [Message.objects.get(pk=m.pk).body for m in messages] == ["第0条", "第1条"]
    assert CustomerUpdateClock.objects.get(ticket=ticket).pk == clock.pk
    assert all(row._state.adding is False for row in [key, clock, *messages])


@pytest.mark.postgres
def test_rows_with_keys_taken_ahead_may_refer_to_each_other_within_the_block():
    from core.db.inserts import reserve_keys_of

    actor = UserFactory()
    ticket_key, message_key = reserve_keys_of([Team, Message])
    ticket = TicketFactory()
    message = Message(pk=message_key, ticket=ticket, kind="note", body="备注", author=actor,
                      created_at=timezone.now())
    team = Team(pk=ticket_key, code="ahead-together", name="提前")

    with transaction.atomic(), inserts.together():
        insert_new([message])
        write_history([history_row(message, actor=actor, reason="message:note",
                                   history_type="+", when=timezone.now())], new_object=True)
        insert_new([team])

    assert Message.objects.get(pk=message_key).body == "备注"
    assert list(Message.history.filter(id=message_key).values_list("history_type", flat=True)) == [
        "+"]
    assert Team.objects.get(pk=ticket_key).code == "ahead-together"


def test_a_block_that_raises_writes_nothing_it_queued():
    ticket, author = TicketFactory(), UserFactory()

    def write_then_fail():
        with transaction.atomic(), inserts.together():
            insert_new([IntakeKey(user=author, key="never", fingerprint="f" * 64,
                                  ticket=ticket)])
            raise RuntimeError("stop")

    with pytest.raises(RuntimeError):
        write_then_fail()

    assert not IntakeKey.objects.filter(key="never").exists()


def test_a_conflict_in_the_blocks_statement_is_an_integrity_error():
    ticket, author = TicketFactory(), UserFactory()
    IntakeKey.objects.create(user=author, key="used", fingerprint="f" * 64, ticket=ticket)

    def write_both():
        with transaction.atomic(), inserts.together():
            insert_new([Team(code="t-new", name="新")])
            insert_new([IntakeKey(user=author, key="used", fingerprint="g" * 64,
                                  ticket=ticket)])

    with pytest.raises(IntegrityError):
        write_both()

    assert not Team.objects.filter(code="t-new").exists()


def test_a_block_runs_only_inside_a_transaction(monkeypatch):
    from django.db import DEFAULT_DB_ALIAS, connections

    # The test itself runs in a transaction: outside one, as in autocommit.
    monkeypatch.setattr(connections[DEFAULT_DB_ALIAS], "in_atomic_block", False)
    with pytest.raises(TypeError, match=r"inside transaction\.atomic"):
        inserts.together().__enter__()


def test_a_block_within_a_block_joins_it(django_assert_num_queries):
    from django.db import connection

    with (transaction.atomic(),
          django_assert_num_queries(1 if connection.vendor == "postgresql" else 2),
          inserts.together()):
        insert_new([Team(code="t-outer", name="外")])
        with inserts.together():
            insert_new([Team(code="t-inner", name="内")])

    assert Team.objects.filter(code__in=["t-outer", "t-inner"]).count() == 2


# --- values sent as they are ----------------------------------------------------------------
def test_values_of_a_plain_kind_are_what_the_fields_would_have_sent():
    """The fast path of insert_new (core.db.inserts._plain_kinds) skips pre_save() and
    get_db_prep_save() for text, numbers, booleans and None: on every model of the project,
    each field it skips them for gives such values back unchanged."""
    from django.apps import apps
    from django.db import connection

    samples = {str: "文本", int: 7, bool: True, type(None): None}
    checked = 0
    for model in apps.get_models():
        for with_keys in (False, True):
            fields = inserts._inserted_fields(model, with_keys)
            for field, kind in zip(fields, inserts._plain_kinds(model, with_keys), strict=True):
                if kind is None:
                    continue
                row = model()
                for value in {None, samples[kind]}:
                    row.__dict__[field.attname] = value  # past FSMField(protected=True)
                    assert field.pre_save(row, True) is value, field
                    assert field.get_db_prep_save(value, connection=connection) == value, field
                    checked += 1
    assert checked > 500


def test_a_value_of_another_type_is_still_converted():
    ticket, user = TicketFactory(), UserFactory()
    key = IntakeKey(user_id=str(user.pk), key="k-str", fingerprint="f" * 64, ticket=ticket)

    insert_new([key])

    assert IntakeKey.objects.get(key="k-str").user_id == user.pk
