"""The audit trail is tamper-evident: hash chains per object, append-only tables, verify_audit."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.urls import reverse
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from core.models.audit import AuditPurge
from core.services import audit_chain
from core.services.audit import save_with_history
from demo.services.bulk import generate_tickets
from demo.services.people import load_people
from policies.models import ApprovalLimit, PolicyRule
from policies.services import rulebook
from resolutions import services as resolution_services
from resolutions.models import Payout, Resolution
from supervision.selectors.audit_trail import audit_trail
from tests.concurrency import run_together
from tests.factories import OrderItemFactory
from tickets import services
from tickets.models import Message, Ticket, TicketState

pytestmark = pytest.mark.usefixtures("english_messages")

TICKET_HISTORY = "tickets_historicalticket"


def verify(*args) -> tuple[bool, str]:
    """Run verify_audit; (verified, output)."""
    out = StringIO()
    try:
        call_command("verify_audit", *args, stdout=out)
    except CommandError as error:
        return False, out.getvalue() + str(error)
    return True, out.getvalue()


def tamper(sql: str, params=()) -> None:
    """Change history as the table owner could, going around the append-only trigger."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")


def changed_ticket(make_ticket, agent):
    """A ticket with three history rows: created, and two changes by the agent."""
    ticket = make_ticket()
    services.ticket_change_priority(ticket=ticket, actor=agent, priority=1, reason="客户催促")
    services.ticket_change_priority(ticket=ticket, actor=agent, priority=0, reason="再次催促")
    return ticket


# --- rows are sealed as they are written -------------------------------------------------
@pytest.mark.django_db
def test_each_history_row_links_to_the_previous_row_of_the_same_object(make_ticket, agent):
    ticket = changed_ticket(make_ticket, agent)
    other = changed_ticket(make_ticket, agent)

    rows = list(Ticket.history.model.objects.filter(id=ticket.pk).order_by("history_id"))

    assert [row.chain_prev for row in rows] == ["", rows[0].chain_hash, rows[1].chain_hash]
    assert all(len(row.chain_hash) == 64 for row in rows)
    assert Ticket.history.model.objects.filter(id=other.pk).order_by(
        "history_id").first().chain_prev == ""
    assert verify()[0]


@pytest.mark.django_db
def test_payouts_have_history():
    assert Payout.history.model._meta.db_table == "resolutions_historicalpayout"
    tables = {model._meta.db_table for model in audit_chain.chained_history_models()}
    assert tables == {
        "tickets_historicalticket", "tickets_historicalmessage",
        "resolutions_historicalresolution", "resolutions_historicalpayout",
        "policies_historicalpolicyrule", "policies_historicalapprovallimit",
        "policies_historicalpolicychangeset", "policies_historicalpolicychangeitem",
        "policies_historicalpolicychangeapproval",
    }


@pytest.mark.django_db(transaction=True)
def test_a_normal_life_verifies_clean(settings, monkeypatch, make_ticket, agent, supervisor):
    settings.TASKS_RUN_INLINE = True
    # The compiled rules are cached by the newest rule-history id, which an emptied test
    # database can hand out again: start without another test's rules.
    monkeypatch.setattr(rulebook, "_compiled", {})
    PolicyRule.objects.all().delete()
    rule = PolicyRule.objects.create(
        name="Small refund", kind="refund_only", priority=30, reasons=["quality_defect"],
        max_item_amount=Decimal("100"), verdict="allow", refund_rule="item_remaining",
        auto_execute=True, source="test")
    limit, _created = ApprovalLimit.objects.update_or_create(
        role="agent", defaults={"max_amount": Decimal("50")})
    item = OrderItemFactory(paid_amount=Decimal("88.00"), unit_price=Decimal("88.00"),
                            order__paid_amount=Decimal("88.00"))
    ticket = make_ticket(TicketState.ASSIGNED, customer=item.order.customer,
                         order=item.order, order_item=item, request_reason="quality_defect",
                         item_condition="opened")

    services.message_add(ticket=ticket, actor=agent, kind="reply", body="您好，已收到。",
                         channel="app")
    services.message_add(ticket=ticket, actor=agent, kind="note", body="核实中")
    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.state == TicketState.IN_PROGRESS  # the first reply was the response
    ticket = services.ticket_change_priority(ticket=ticket, actor=agent, priority=1,
                                             reason="客户催促")
    resolution = resolution_services.resolution_propose(ticket=ticket, actor=agent, kind="refund_only")
    rule.compensation_cap = Decimal("20.00")
    save_with_history(rule, actor=supervisor, reason="admin")
    limit.max_amount = Decimal("80.00")
    save_with_history(limit, actor=supervisor, reason="admin")

    resolution.refresh_from_db()
    payout = Payout.objects.get(resolution=resolution)
    # Reserved under the order lock, then marked paid once the gateway answered.
    assert list(payout.history.order_by("history_id").values_list("state", flat=True)) == [
        "reserved", "paid"]
    assert Resolution.history.model.objects.filter(id=resolution.pk).count() >= 2
    assert Message.history.model.objects.filter(ticket_id=ticket.pk).count() == 2
    assert PolicyRule.history.model.objects.filter(id=rule.pk).count() == 2
    verified, output = verify()
    assert verified, output
    assert "Audit trail verified." in output
    assert audit_trail(ticket=ticket).verification == {"ok": True}


# --- tampering is found ---------------------------------------------------------------------
@pytest.mark.django_db
def test_verify_audit_finds_a_row_edited_in_the_database(make_ticket, agent, supervisor):
    ticket = changed_ticket(make_ticket, agent)
    row = Ticket.history.model.objects.filter(id=ticket.pk).order_by("history_id")[1]
    assert verify()[0]

    tamper("UPDATE tickets_historicalticket SET history_user_id = %s, history_change_reason = %s "
           "WHERE history_id = %s", [supervisor.pk, "priority:P1 — 主管决定", row.history_id])

    verified, output = verify()
    assert not verified
    when = timezone.localtime(row.history_date).isoformat()
    assert (f"BROKEN {TICKET_HISTORY} history_id={row.history_id} object_id={ticket.pk} "
            f"at={when}") in output
    assert "edited" in output
    assert "Audit chain broken in tickets_historicalticket" in output


@pytest.mark.django_db
def test_verify_audit_finds_a_removed_row_and_can_check_one_object(make_ticket, agent):
    ticket = changed_ticket(make_ticket, agent)
    untouched = changed_ticket(make_ticket, agent)
    _first, middle, last = Ticket.history.model.objects.filter(id=ticket.pk).order_by("history_id")

    tamper("DELETE FROM tickets_historicalticket WHERE history_id = %s", [middle.history_id])

    verified, output = verify("--table", TICKET_HISTORY, "--object", str(ticket.pk))
    assert not verified
    assert f"history_id={last.history_id} object_id={ticket.pk}" in output
    assert "removed" in output
    assert verify("--table", TICKET_HISTORY, "--object", str(untouched.pk))[0]


@pytest.mark.django_db
def test_a_rewritten_first_row_is_found_too(make_ticket, agent):
    ticket = changed_ticket(make_ticket, agent)
    first = Ticket.history.model.objects.filter(id=ticket.pk).order_by("history_id").first()

    tamper("UPDATE tickets_historicalticket SET subject = %s WHERE history_id = %s",
           ["别的问题", first.history_id])

    verified, output = verify("--table", TICKET_HISTORY)
    assert not verified
    assert f"history_id={first.history_id} " in output


def test_verify_audit_refuses_an_unknown_table(db):
    with pytest.raises(CommandError, match="Not a chained history table"):
        call_command("verify_audit", "--table", "tickets_ticket", stdout=StringIO())


# --- the database refuses changes ------------------------------------------------------------
@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("statement", [
    "UPDATE {table} SET history_change_reason = 'x' WHERE history_id = %s",
    "DELETE FROM {table} WHERE history_id = %s",
])
@pytest.mark.parametrize("model", [Ticket, Message, Resolution, Payout, PolicyRule,
                                   ApprovalLimit])
def test_postgresql_refuses_update_and_delete_of_history(model, statement):
    table = model.history.model._meta.db_table
    row = _any_row(model)
    with (pytest.raises(IntegrityError, match="append-only"), transaction.atomic(),
          connection.cursor() as cursor):
        cursor.execute(statement.format(table=table), [row.history_id])


def _any_row(model):
    """A history row of the model (made through the ORM with whatever it needs)."""
    from tests.factories import TicketFactory

    if model is Ticket:
        return TicketFactory().history.first()
    if model is Message:
        ticket = TicketFactory()
        return Message.objects.create(ticket=ticket, kind="note", body="x").history.first()
    if model is PolicyRule:
        return PolicyRule.objects.create(name="x", kind="exchange", priority=1,
                                         verdict="deny").history.first()
    if model is ApprovalLimit:
        limit, _ = ApprovalLimit.objects.get_or_create(role="qa")
        limit.note = "x"
        limit.save()
        return limit.history.first()
    item = OrderItemFactory()
    ticket = TicketFactory(order=item.order, customer=item.order.customer, order_item=item)
    resolution = Resolution.objects.create(ticket=ticket, order_item=item, kind="refund_only")
    if model is Resolution:
        return resolution.history.first()
    return Payout.objects.create(resolution=resolution, order=item.order, kind="refund",
                                 amount=Decimal("1.00"), payer="merchant",
                                 gateway_reference="r", idempotency_key="k").history.first()


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgresql_refuses_history_changes_through_the_orm_too(make_ticket, agent):
    ticket = changed_ticket(make_ticket, agent)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Ticket.history.model.objects.filter(id=ticket.pk).update(history_change_reason="x")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Ticket.history.model.objects.filter(id=ticket.pk).delete()
    assert Ticket.history.model.objects.filter(id=ticket.pk).count() == 3


# --- people who acted are deactivated, not deleted -------------------------------------------
@pytest.mark.django_db
def test_a_user_named_by_history_cannot_be_deleted(make_ticket, supervisor, qa_inspector):
    changed_ticket(make_ticket, supervisor)

    with pytest.raises(ProtectedError, match="deactivate"), transaction.atomic():
        supervisor.delete()

    supervisor.refresh_from_db()
    qa_inspector.delete()  # never acted: nothing to protect


@pytest.mark.django_db
def test_the_admin_says_to_deactivate_instead_of_failing(client, make_ticket, supervisor):
    from django.contrib.auth import get_user_model

    changed_ticket(make_ticket, supervisor)
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin)
    url = reverse("admin:cs_console_user_delete", args=[supervisor.pk])

    page = client.get(url)
    refused = client.post(url, {"post": "yes"})

    assert page.status_code == 200
    assert "deactivate the account instead" in page.content.decode()
    assert refused.status_code == 200  # the same refusal, not a 500
    assert get_user_model().objects.filter(pk=supervisor.pk).exists()


# --- writers other than save() ---------------------------------------------------------------
@pytest.mark.django_db
def test_bulk_history_writes_chain_within_the_batch_and_onto_earlier_rows(make_ticket, agent):
    first, second = make_ticket(), make_ticket()
    for ticket in (first, second):
        ticket.priority = 1
    bulk_update_with_history([first, second], Ticket, ["priority"],
                             default_change_reason="sla:priority")
    Ticket.history.bulk_history_create([first, first], update=True,
                                       default_change_reason="sla:twice")

    rows = list(Ticket.history.model.objects.filter(id=first.pk).order_by("history_id"))
    assert len(rows) == 4
    assert [row.chain_prev for row in rows[1:]] == [row.chain_hash for row in rows[:-1]]
    assert verify()[0]


@pytest.mark.django_db
def test_bulk_loaded_tickets_and_messages_verify(db):
    load_people()

    result = generate_tickets(40, batch_size=15, seed=3)

    assert result.tickets == 40
    assert not Ticket.history.model.objects.filter(chain_hash="").exists()
    assert not Message.history.model.objects.filter(chain_hash="").exists()
    verified, output = verify()
    assert verified, output


@pytest.mark.django_db
def test_backfill_seals_rows_written_before_the_chain(make_ticket, agent):
    ticket = changed_ticket(make_ticket, agent)
    tamper("UPDATE tickets_historicalticket SET chain_prev = '', chain_hash = ''")
    assert not verify("--table", TICKET_HISTORY)[0]

    tamper_backfill(Ticket.history.model)

    assert verify()[0]
    rows = Ticket.history.model.objects.filter(id=ticket.pk).order_by("history_id")
    assert rows[1].chain_prev == rows[0].chain_hash


def tamper_backfill(model):
    """The migration's backfill runs before the trigger exists; here it must go around it."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        audit_chain.backfill(model, batch_size=2)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")


# --- retention purges --------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_recorded_purge_keeps_the_chain_verifiable(make_ticket, agent, time_machine):
    time_machine.move_to(timezone.now() - timedelta(days=800), tick=False)
    old = make_ticket()
    time_machine.move_to(timezone.now() + timedelta(days=790), tick=False)
    cutoff = timezone.now() - timedelta(days=1)
    services.ticket_change_priority(ticket=old, actor=agent, priority=1, reason="客户催促")
    young = changed_ticket(make_ticket, agent)
    out = StringIO()

    call_command("purge_audit_history", "--before", cutoff.isoformat(), "--reason",
                 "两年保留期", "--table", TICKET_HISTORY, stdout=out)

    assert f"{TICKET_HISTORY}: 1 rows deleted" in out.getvalue()
    remaining = Ticket.history.model.objects.filter(id=old.pk)
    assert remaining.count() == 1
    assert remaining.get().chain_prev  # it points at a purged row
    assert Ticket.history.model.objects.filter(id=young.pk).count() == 3
    purge = AuditPurge.objects.get()
    assert (purge.table, purge.rows, purge.reason) == (TICKET_HISTORY, 1, "两年保留期")
    assert list(purge.anchors.values_list("object_id", "chain_hash")) == [
        (old.pk, remaining.get().chain_prev)]
    verified, output = verify()
    assert verified, output

    # A purge is no cover for removing other rows of the table afterwards.
    young_first = Ticket.history.model.objects.filter(id=young.pk).order_by("history_id")[0]
    tamper("DELETE FROM tickets_historicalticket WHERE history_id = %s",
           [young_first.history_id])
    verified, output = verify()
    assert not verified
    assert f"object_id={young.pk} " in output


@pytest.mark.django_db
def test_an_unrecorded_delete_of_old_rows_is_not_taken_for_a_purge(make_ticket, agent):
    ticket = changed_ticket(make_ticket, agent)
    first = Ticket.history.model.objects.filter(id=ticket.pk).order_by("history_id").first()

    tamper("DELETE FROM tickets_historicalticket WHERE history_id = %s", [first.history_id])

    assert not verify()[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # SET LOCAL lasts until the outermost COMMIT
def test_the_purge_switch_lasts_only_for_its_transaction(make_ticket):
    ticket = make_ticket()
    call_command("purge_audit_history", "--before", "2000-01-01", "--reason", "nothing",
                 stdout=StringIO())
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Ticket.history.model.objects.filter(id=ticket.pk).delete()


def test_the_purge_refuses_a_cutoff_in_the_future(db):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    with pytest.raises(CommandError, match="future"):
        call_command("purge_audit_history", "--before", tomorrow, "--reason", "x",
                     stdout=StringIO())


# --- the audit page shows it -------------------------------------------------------------------
@pytest.mark.django_db
def test_the_audit_page_says_the_trail_is_verified(client, make_ticket, agent):
    ticket = changed_ticket(make_ticket, agent)
    client.force_login(agent)

    page = client.get(reverse("console-audit", args=[ticket.number])).content.decode()

    assert 'data-testid="audit-verified"' in page
    assert "Audit trail verified" in page


@pytest.mark.django_db
def test_the_audit_page_warns_about_an_edited_row(client, make_ticket, agent, supervisor):
    ticket = changed_ticket(make_ticket, agent)
    message = services.message_add(ticket=ticket, actor=agent, kind="note", body="核实中")
    row = message.history.get()
    tamper("UPDATE tickets_historicalmessage SET history_user_id = %s WHERE history_id = %s",
           [supervisor.pk, row.history_id])
    client.force_login(agent)

    response = client.get(reverse("console-audit", args=[ticket.number]))
    page = response.content.decode()

    assert response.context["entries"].verification["history_id"] == row.history_id
    assert 'data-testid="audit-broken"' in page
    assert f"row {row.history_id}" in page
    assert f"Message {message.pk}" in page
    assert "Audit trail verified" not in page


# --- two writers of one object ---------------------------------------------------------------
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_of_one_object_chain_one_after_the_other(make_ticket, agent):
    ticket = make_ticket()

    def first(barrier):
        with transaction.atomic():
            mine = Ticket.objects.get(pk=ticket.pk)
            mine.priority = 1
            save_with_history(mine, actor=agent, reason="priority:P1 — first")
            barrier.wait()
            _until_another_connection_waits_for_a_lock()
        return "first"

    def second(barrier):
        mine = Ticket.objects.get(pk=ticket.pk)
        barrier.wait()
        with transaction.atomic():
            mine.subject = "second"
            save_with_history(mine, actor=agent, reason="edit — second")  # waits for first
        return "second"

    assert run_together(first, second) == ["first", "second"]
    rows = list(Ticket.history.model.objects.filter(id=ticket.pk).order_by("history_id"))
    assert [row.history_change_reason for row in rows[1:]] == [
        "priority:P1 — first", "edit — second"]
    assert rows[2].chain_prev == rows[1].chain_hash
    verified, output = verify()
    assert verified, output


def _until_another_connection_waits_for_a_lock():
    """Hold the transaction open until the other writer is blocked on our row lock."""
    with connection.cursor() as cursor:
        for _ in range(10_000):
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                           "current_database() AND wait_event_type = 'Lock'")
            if cursor.fetchone()[0]:
                return
            cursor.execute("SELECT pg_sleep(0.01)")
    raise AssertionError("the second writer never waited for the row lock")
