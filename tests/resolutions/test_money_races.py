"""Races on one order's money between separate database connections (PostgreSQL row locks).

Every job waits on a shared barrier and then acts at the same moment as the others; the
refunds paid plus reserved must stay within what the order was paid, and every refused
job must have been told so with a clear 409.
"""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from core.services.exceptions import Conflict
from resolutions import services as resolution_services
from resolutions.models import Payout, PayoutKind, PayoutState, Resolution, ResolutionState
from tests.concurrency import run_together
from tests.resolutions.money import (
    order_with_items,
    ready_resolution,
    refunded,
    ticket_about,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
RS = ResolutionState


def test_eight_parallel_api_executions_across_tickets_never_refund_more_than_was_paid(
    make_ticket, agent
):
    order, (item,) = order_with_items("300.00")
    resolutions = [ready_resolution(ticket_about(make_ticket, item), refund="100.00")
                   for _ in range(8)]

    def execute(resolution):
        url = reverse("resolution-transitions", args=[resolution.ticket.number, resolution.pk])

        def job(barrier):
            client = APIClient()
            client.force_authenticate(agent)
            barrier.wait()
            return client.post(url, {"name": "execute"}, format="json")

        return job

    responses = run_together(*[execute(resolution) for resolution in resolutions])

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * 3 + [409] * 5, responses
    for response in responses:
        if response.status_code == 409:
            assert response.data["code"] == "refund_exceeds_paid"
            assert "above what was paid (300.00)" in response.data["detail"]
        else:
            assert response.data["state"] == RS.COMPLETED
    assert refunded(order=order) == Decimal("300.00")
    assert not Payout.objects.filter(state=PayoutState.RESERVED).exists()
    assert Resolution.objects.filter(state=RS.APPROVED).count() == 5  # untouched, still ready


def test_every_path_races_for_the_same_money_and_the_order_is_never_over_refunded(
    make_ticket, agent, supervisor, settings
):
    order, items = order_with_items("200.00", "100.00")  # room for three refunds of 100
    executions = [ready_resolution(ticket_about(make_ticket, items[i % 2]), refund="100.00")
                  for i in range(4)]
    manual = [ready_resolution(ticket_about(make_ticket, items[i % 2]), refund="100.00",
                               state=RS.MANUAL_REVIEW, attempts=1) for i in range(2)]
    retries = [ready_resolution(ticket_about(make_ticket, items[i % 2]), refund="100.00",
                                state=RS.MANUAL_REVIEW, attempts=1) for i in range(2)]
    failing = ready_resolution(ticket_about(make_ticket, items[0]), refund="100.00",
                               compensation="30.00", points=100)
    settings.SIMULATED_GATEWAY_FAILURES = set()

    def act(call):
        def job(barrier):
            barrier.wait()
            try:
                return call()
            except Conflict as refusal:
                return refusal
        return job

    jobs = [act(lambda r=r: resolution_services.resolution_execute(resolution_id=r.pk, actor=agent))
            for r in [*executions, failing]]
    jobs += [act(lambda r=r: resolution_services.resolution_complete_manually(
        resolution=Resolution.objects.get(pk=r.pk), actor=supervisor, note="银行转账"))
        for r in manual]
    jobs += [act(lambda r=r: resolution_services.resolution_retry(
        resolution=Resolution.objects.get(pk=r.pk), actor=agent)) for r in retries]

    results = run_together(*jobs)

    refusals = [r for r in results if isinstance(r, Exception)]
    odd = [repr(r) for r in refusals
           if not (isinstance(r, Conflict) and r.code == "refund_exceeds_paid")]
    assert not odd
    assert len(refusals) == len(results) - 3, results  # 300 paid: three refunds of 100 fit
    assert refunded(order=order) == Decimal("300.00")
    for item in items:
        assert refunded(item=item) <= item.paid_amount
    assert not Payout.objects.filter(state=PayoutState.RESERVED).exists()


def test_eight_parallel_proposals_on_one_item_promise_its_money_once(make_ticket, agent,
                                                                      money_rules):
    _order, (item,) = order_with_items("199.00")
    tickets = [ticket_about(make_ticket, item) for _ in range(8)]

    def propose(ticket):
        def job(barrier):
            barrier.wait()
            try:
                return resolution_services.resolution_propose(ticket=ticket, actor=agent,
                                                   kind="refund_only")
            except Conflict as refusal:
                return refusal
        return job

    results = run_together(*[propose(ticket) for ticket in tickets])

    proposed = [r for r in results if isinstance(r, Resolution)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(proposed) == 1, results
    assert proposed[0].refund_amount == Decimal("199.00")
    assert len(refused) == 7, results
    assert {r.code for r in refused} == {"refund_exceeds_paid"}


# --- the database's own guard ----------------------------------------------------------------
def refund_row(resolution, amount: str, *, key: str) -> Payout:
    return Payout(resolution=resolution, order=resolution.ticket.order,
                  order_item=resolution.order_item, kind=PayoutKind.REFUND,
                  state=PayoutState.RESERVED, amount=Decimal(amount), payer="merchant",
                  idempotency_key=key)


def test_the_database_refuses_to_commit_refunds_above_what_was_paid(make_ticket):
    order, (item,) = order_with_items("100.00")
    resolution = ready_resolution(ticket_about(make_ticket, item), refund="100.00")

    def write_two_refunds_of_60():
        with transaction.atomic():  # the check runs when this commits
            refund_row(resolution, "60.00", key="a").save()
            refund_row(resolution, "60.00", key="b").save()

    with pytest.raises(IntegrityError, match="exceed what was paid"):
        write_two_refunds_of_60()

    assert not Payout.objects.exists()
    refund_row(resolution, "100.00", key="c").save()  # exactly what was paid is fine
    assert refunded(order=order) == Decimal("100.00")


def test_the_database_guard_holds_between_writers_that_skip_the_order_lock(make_ticket):
    order, (item,) = order_with_items("100.00")
    resolutions = [ready_resolution(ticket_about(make_ticket, item), refund="60.00")
                   for _ in range(2)]

    def write(resolution, key):
        def job(barrier):
            with transaction.atomic():
                refund_row(resolution, "60.00", key=key).save()
                barrier.wait()  # both rows written, neither committed
            return key
        return job

    results = run_together(write(resolutions[0], "x"), write(resolutions[1], "y"))

    assert sum(isinstance(r, IntegrityError) for r in results) == 1, results
    assert refunded(order=order) == Decimal("60.00")
