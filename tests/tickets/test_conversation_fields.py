"""What a queue row shows of the conversation is kept on the ticket by the message service.

The last customer message is their latest inbound message or phone call summary, trimmed;
the customer waits for us from their oldest message that no reply has followed yet.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.models.roles import Integration
from core.services.accounts import integration_account
from tests.factories import CustomerFactory
from tickets import services
from tickets.models import LAST_MESSAGE_EXCERPT, MessageKind, Ticket, TicketState
from tickets.services.tickets import message_excerpt

pytestmark = pytest.mark.django_db

S = TicketState


@pytest.fixture
def channel_gateway(db):
    return integration_account(username="app_gateway", integration=Integration.CHANNEL)


def _inbound(ticket, gateway, body):
    return services.message_add(ticket=ticket, actor=gateway, kind=MessageKind.INBOUND, body=body)


def test_a_customer_message_becomes_the_last_message_and_starts_the_wait(
        make_ticket, channel_gateway):
    ticket = make_ticket(S.IN_PROGRESS)

    message = _inbound(ticket, channel_gateway, "  快递三天没动了，\n 能帮我查一下吗？  ")

    stored = Ticket.objects.get(pk=ticket.pk)
    assert stored.last_customer_message == "快递三天没动了， 能帮我查一下吗？"
    assert stored.last_customer_message_at == message.created_at
    assert stored.customer_waiting_since == message.created_at


def test_the_wait_counts_from_the_oldest_unanswered_message(make_ticket, channel_gateway):
    ticket = make_ticket(S.IN_PROGRESS)
    first = _inbound(ticket, channel_gateway, "在吗？")

    second = _inbound(ticket, channel_gateway, "还没人回复吗")

    stored = Ticket.objects.get(pk=ticket.pk)
    assert stored.customer_waiting_since == first.created_at
    assert stored.last_customer_message == "还没人回复吗"
    assert stored.last_customer_message_at == second.created_at


def test_a_reply_ends_the_wait_and_a_note_does_not(make_ticket, channel_gateway, agent):
    ticket = make_ticket(S.IN_PROGRESS)
    _inbound(ticket, channel_gateway, "在吗？")

    services.message_add(ticket=ticket, actor=agent, kind=MessageKind.NOTE, body="查物流中")
    assert Ticket.objects.get(pk=ticket.pk).customer_waiting_since is not None

    services.message_add(ticket=ticket, actor=agent, kind=MessageKind.REPLY, body="您好，在的")
    stored = Ticket.objects.get(pk=ticket.pk)
    assert stored.customer_waiting_since is None
    assert stored.last_customer_message == "在吗？"  # still what the customer said last


def test_a_phone_call_summary_is_the_customers_words(make_ticket, agent):
    ticket = make_ticket(S.IN_PROGRESS)

    services.message_add(ticket=ticket, actor=agent, kind=MessageKind.PHONE_SUMMARY,
                         body="客户来电催退款")

    stored = Ticket.objects.get(pk=ticket.pk)
    assert stored.last_customer_message == "客户来电催退款"
    assert stored.customer_waiting_since is not None


def test_the_derived_fields_write_no_ticket_history(make_ticket, channel_gateway):
    ticket = make_ticket(S.IN_PROGRESS)
    rows = ticket.history.count()

    _inbound(ticket, channel_gateway, "在吗？")

    assert ticket.history.count() == rows


def test_a_ticket_opened_with_the_customers_words_waits_from_its_creation(agent, team):
    customer = CustomerFactory()

    ticket = services.ticket_create(actor=agent, channel="phone", customer=customer,
                                    subject="快递没到", description="客户说快递三天没动",
                                    team=team)

    stored = Ticket.objects.get(pk=ticket.pk)
    assert stored.last_customer_message == "客户说快递三天没动"
    assert stored.customer_waiting_since == stored.created_at


def test_a_ticket_opened_with_an_internal_note_has_no_customer_words(agent, team):
    ticket = services.ticket_create(actor=agent, channel="web_form", customer=CustomerFactory(),
                                    subject="内部跟进", description="仓库反馈缺货", team=team)

    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.last_customer_message, stored.customer_waiting_since) == ("", None)


def test_the_excerpt_is_one_line_of_bounded_length():
    text = "退款" * 200 + "\n\n尾巴"

    excerpt = message_excerpt(text)

    assert len(excerpt) == LAST_MESSAGE_EXCERPT
    assert "\n" not in message_excerpt("一\n二\t三")


def test_the_migration_backfill_reads_the_messages(make_ticket, channel_gateway, agent):
    """The data migration's function, run on tickets whose fields were never kept."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("tickets.migrations.0028_conversation_for_queues")
    answered = make_ticket(S.IN_PROGRESS)
    _inbound(answered, channel_gateway, "第一条")
    services.message_add(ticket=answered, actor=agent, kind=MessageKind.REPLY, body="已回复")
    waiting = make_ticket(S.IN_PROGRESS)
    first = _inbound(waiting, channel_gateway, "第二条")
    _inbound(waiting, channel_gateway, "第三条")
    services.message_add(ticket=waiting, actor=agent, kind=MessageKind.NOTE, body="备注")
    # Wipe what the service kept, so that only the backfill can fill it again.
    Ticket.objects.update(last_customer_message="", last_customer_message_at=None,
                          customer_waiting_since=None)

    migration.fill_conversation(apps, None)

    answered.refresh_from_db()
    waiting.refresh_from_db()
    assert (answered.last_customer_message, answered.customer_waiting_since) == ("第一条", None)
    assert waiting.last_customer_message == "第三条"
    assert waiting.customer_waiting_since == first.created_at
    assert waiting.last_customer_message_at > timezone.now() - timedelta(minutes=5)
