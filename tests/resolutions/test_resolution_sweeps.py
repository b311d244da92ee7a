"""Scheduled resolution work: payment retries with back-off, return parcels, merchant silence."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from notifications.models import OutboxMessage
from policies.models import PolicyRule
from resolutions import services as resolution_services
from resolutions.models import Payout, ResolutionState
from resolutions.services import sweeps as resolution_sweeps
from tests.factories import OrderItemFactory
from tickets import services
from tickets.models import TicketState

# Real commits: executions are queued after commit, as in production.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("inline_tasks")]
RS = ResolutionState


@pytest.fixture
def ticket(make_ticket):
    item = OrderItemFactory(paid_amount=Decimal("120.00"), order__paid_amount=Decimal("120.00"),
                            order__customer__phone="13912345678")
    return make_ticket(TicketState.IN_PROGRESS, customer=item.order.customer, order=item.order,
                       order_item=item, request_reason="quality_defect", item_condition="opened")


@pytest.fixture
def refund_rules(db):
    PolicyRule.objects.all().delete()
    PolicyRule.objects.create(name="Refund", kind="refund_only", priority=40,
                              reasons=["quality_defect"], refund_rule="item_remaining")
    PolicyRule.objects.create(name="Return", kind="return_refund", priority=41,
                              reasons=["quality_defect"], refund_rule="item_remaining",
                              freight_payer="merchant")
    PolicyRule.objects.create(name="Advance payout", kind="refund_only", priority=25,
                              min_merchant_silent_hours=Decimal("48"),
                              refund_rule="item_remaining", payer="platform", auto_execute=True)


def test_a_failed_payment_is_retried_with_back_off_then_handed_to_a_person(
    ticket, agent, refund_rules, settings
):
    settings.SIMULATED_GATEWAY_FAILURES = {ticket.order.number}
    resolution = resolution_services.resolution_propose(ticket=ticket, actor=agent, kind="refund_only")
    resolution_services.resolution_accept(resolution=resolution, actor=agent)  # allowed: executes, fails
    resolution.refresh_from_db()
    assert (resolution.state, resolution.attempts) == (RS.FAILED, 1)
    first = resolution.executed_at

    assert resolution_sweeps.retry_failed_payments(now=first + timedelta(minutes=4)) == 0
    assert resolution_sweeps.retry_failed_payments(now=first + timedelta(minutes=5)) == 1
    resolution.refresh_from_db()
    assert (resolution.state, resolution.attempts) == (RS.FAILED, 2)

    second = resolution.executed_at
    assert resolution_sweeps.retry_failed_payments(now=second + timedelta(minutes=9)) == 0
    resolution_sweeps.retry_failed_payments(now=second + timedelta(minutes=10))
    resolution.refresh_from_db()
    assert resolution.attempts == 3

    resolution_sweeps.retry_failed_payments(now=resolution.executed_at + timedelta(hours=1))
    resolution.refresh_from_db()
    assert resolution.state == RS.MANUAL_REVIEW
    assert OutboxMessage.objects.filter(template="sla.payment_needs_review").count() == 1
    # Nothing was paid, and nothing stays reserved: the failed attempts released their rows.
    assert set(Payout.objects.values_list("state", flat=True)) == {"released"}


def test_a_retry_that_succeeds_pays_once(ticket, agent, refund_rules, settings):
    settings.SIMULATED_GATEWAY_FAILURES = {ticket.order.number}
    resolution = resolution_services.resolution_propose(ticket=ticket, actor=agent, kind="refund_only")
    resolution_services.resolution_accept(resolution=resolution, actor=agent)
    resolution.refresh_from_db()
    settings.SIMULATED_GATEWAY_FAILURES = set()

    later = resolution.executed_at + timedelta(minutes=5)
    resolution_sweeps.retry_failed_payments(now=later)
    resolution_sweeps.retry_failed_payments(now=later + timedelta(hours=1))

    resolution.refresh_from_db()
    assert resolution.state == RS.COMPLETED
    assert Payout.objects.filter(resolution=resolution).count() == 1


def test_return_parcels_chase_the_customer_then_warn_the_agent(ticket, agent, refund_rules,
                                                              settings):
    settings.RETURN_SHIP_WITHIN_DAYS = 7
    settings.RETURN_ARRIVE_WITHIN_DAYS = 10
    resolution = resolution_services.resolution_propose(ticket=ticket, actor=agent, kind="return_refund")
    resolution_services.resolution_accept(resolution=resolution, actor=agent)
    resolution.refresh_from_db()
    assert resolution.state == RS.AWAITING_RETURN
    approved = resolution.approved_at

    assert resolution_sweeps.warn_about_return_parcels(now=approved + timedelta(days=6)) == 0
    assert resolution_sweeps.warn_about_return_parcels(now=approved + timedelta(days=7)) == 1
    assert resolution_sweeps.warn_about_return_parcels(now=approved + timedelta(days=8)) == 0
    reminder = OutboxMessage.objects.get(template="customer.return_reminder")
    assert "13912345678" not in reminder.body

    resolution_services.resolution_record_return(resolution=resolution, actor=agent, carrier="中通快递",
                                      tracking_number="ZT1")
    resolution.refresh_from_db()
    shipped = resolution.return_shipped_at
    assert resolution_sweeps.warn_about_return_parcels(now=shipped + timedelta(days=9)) == 0
    assert resolution_sweeps.warn_about_return_parcels(now=shipped + timedelta(days=10)) == 1
    assert resolution_sweeps.warn_about_return_parcels(now=shipped + timedelta(days=11)) == 0
    assert OutboxMessage.objects.get(template="sla.return_overdue").recipient_user == agent


def test_merchant_silence_is_measured_from_the_wait(ticket, agent, refund_rules, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    services.ticket_transition(ticket=ticket, actor=agent, name="wait_for_internal",
                               waiting_on="supplier")
    time_machine.shift(timedelta(hours=47))
    assert resolution_sweeps.step_in_for_silent_merchants(now=timezone.now()) == 0

    time_machine.shift(timedelta(hours=1))
    assert resolution_sweeps.step_in_for_silent_merchants(now=timezone.now()) == 1
    assert resolution_sweeps.step_in_for_silent_merchants(now=timezone.now()) == 0

    payout = Payout.objects.get()
    assert (payout.payer, payout.amount) == ("platform", Decimal("120.00"))
    assert OutboxMessage.objects.filter(template="sla.platform_intervened").count() == 1
