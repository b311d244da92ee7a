"""Races between separate database connections, on PostgreSQL (row locks are real there)."""


import pytest

from core.services.exceptions import Conflict
from tests.concurrency import run_together
from tests.factories import CustomerFactory
from tickets import services
from tickets.models import Ticket, TicketState

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_concurrent_transitions_of_one_ticket_exactly_one_succeeds(make_ticket, agent):
    ticket = make_ticket(TicketState.IN_PROGRESS)

    def transition(name, **params):
        def job(barrier):
            mine = Ticket.objects.get(pk=ticket.pk)  # loaded before either writes
            barrier.wait()
            return services.ticket_transition(ticket=mine, actor=agent, name=name, **params)
        return job

    results = run_together(
        transition("resolve", summary="已退款"),
        transition("wait_for_customer"),
    )

    failures = [r for r in results if isinstance(r, Exception)]
    successes = [r for r in results if isinstance(r, Ticket)]
    assert len(successes) == 1, results
    assert len(failures) == 1, results
    assert isinstance(failures[0], Conflict), results
    ticket.refresh_from_db()
    assert ticket.state == successes[0].state
    assert ticket.history.filter(history_change_reason__startswith="transition:").count() == 1


def test_concurrent_creation_hands_out_unique_consecutive_numbers(agent):
    customer = CustomerFactory()

    def create(barrier):
        barrier.wait()
        return services.ticket_create(actor=agent, channel="app", customer=customer,
                                      subject="并发创建").number

    numbers = run_together(*[create] * 8)

    assert all(isinstance(n, str) for n in numbers), numbers
    assert len(set(numbers)) == 8
    assert sorted(int(n.rsplit("-", 1)[1]) for n in numbers) == list(range(1, 9))


def test_concurrent_retries_with_one_idempotency_key_open_one_ticket(agent):
    payload = {
        "channel": "app", "subject": "重复提交",
        "customer": {"external_id": "KS1", "name": "林晓雨"},
    }

    def intake(barrier):
        barrier.wait()
        ticket, _created = services.ticket_intake(actor=agent, payload=payload,
                                                  idempotency_key="retry-1")
        return ticket.number

    numbers = run_together(*[intake] * 4)

    assert len(set(numbers)) == 1, numbers
    assert Ticket.objects.count() == 1
