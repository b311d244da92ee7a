"""The money invariant: refunds paid plus refunds reserved never exceed what was paid.

Per order and per item, whatever the path: the gateway, a retry, a manual settlement,
several payments in one resolution. These tests run in one connection; the races between
connections are in test_money_races.py.
"""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.services.exceptions import Conflict
from resolutions import services as resolution_services
from resolutions.models import Payout, PayoutKind, PayoutState, ResolutionState
from resolutions.services import payments
from resolutions.services.decision_facts import already_refunded
from resolutions.services.resolutions import approval_limit
from tests.resolutions.money import (
    order_with_items,
    ready_resolution,
    refunded,
    ticket_about,
)

pytestmark = pytest.mark.django_db
RS = ResolutionState


def gateway_that_meanwhile(action):
    """Return a gateway class that runs `action` once while paying its first request."""
    real = payments.SimulatedGateway()
    done = []

    class Meanwhile:
        def pay(self, request):
            if not done:
                done.append(action())
            return real.pay(request)

    return Meanwhile, done


# --- issue 1: an execution in flight is counted --------------------------------------------------
def test_an_execution_in_flight_holds_its_refund_so_another_cannot_take_it(
    make_ticket, agent, monkeypatch
):
    order, (item,) = order_with_items("300.00")
    first = ready_resolution(ticket_about(make_ticket, item), refund="300.00")
    second = ready_resolution(ticket_about(make_ticket, item), refund="300.00")

    def execute_second():
        try:
            resolution_services.resolution_execute(resolution_id=second.pk, actor=agent)
        except Conflict as refusal:
            return refusal
        return None

    gateway, meanwhile = gateway_that_meanwhile(execute_second)
    monkeypatch.setattr("resolutions.services.resolutions.get_gateway", gateway)
    resolution_services.resolution_execute(resolution_id=first.pk, actor=agent)

    (refusal,) = meanwhile
    assert isinstance(refusal, Conflict)
    assert refusal.code == "refund_exceeds_paid"
    # The message names what was paid, refunded and reserved.
    assert "(300.00)" in refusal.message
    assert "0.00 is refunded, 300.00 is reserved" in refusal.message
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, second.state) == (RS.COMPLETED, RS.APPROVED)
    assert refunded(order=order) == Decimal("300.00")


def test_two_tickets_of_one_order_cannot_both_propose_the_full_refund(make_ticket, agent, money_rules):
    order, (item,) = order_with_items("199.00")
    resolution_services.resolution_propose(ticket=ticket_about(make_ticket, item), actor=agent,
                                kind="partial_refund")  # promises 99.50 of the item

    with pytest.raises(Conflict, match="promised by other open resolutions") as refused:
        resolution_services.resolution_propose(ticket=ticket_about(make_ticket, item), actor=agent,
                                    kind="refund_only")

    assert refused.value.code == "refund_exceeds_paid"
    assert "99.50 is promised" in refused.value.message
    assert order.payouts.count() == 0


def test_a_cancelled_proposal_frees_what_it_promised(make_ticket, agent, money_rules):
    _order, (item,) = order_with_items("199.00")
    first = resolution_services.resolution_propose(ticket=ticket_about(make_ticket, item), actor=agent,
                                        kind="refund_only")
    resolution_services.resolution_cancel(resolution=first, actor=agent, reason="客户撤回")

    second = resolution_services.resolution_propose(ticket=ticket_about(make_ticket, item), actor=agent,
                                         kind="refund_only")

    assert second.refund_amount == Decimal("199.00")


def test_each_item_is_bounded_by_its_own_paid_amount(make_ticket, agent, money_rules):
    order, (cheap, _dear) = order_with_items("50.00", "250.00")
    first = ready_resolution(ticket_about(make_ticket, cheap), refund="50.00")
    second = ready_resolution(ticket_about(make_ticket, cheap), refund="30.00")
    resolution_services.resolution_execute(resolution_id=first.pk, actor=agent)

    # The order has 250 left, but not this item.
    with pytest.raises(Conflict, match=f"the item {cheap.sku} above"):
        resolution_services.resolution_execute(resolution_id=second.pk, actor=agent)
    assert refunded(order=order) == refunded(item=cheap) == Decimal("50.00")


def test_proposals_on_one_item_may_not_promise_more_than_it_was_paid(make_ticket, agent, money_rules):
    order, (cheap, dear) = order_with_items("50.00", "250.00")
    resolution_services.resolution_propose(ticket=ticket_about(make_ticket, cheap), actor=agent,
                                kind="partial_refund")  # promises 25 of the item's 50

    with pytest.raises(Conflict, match=f"the item {cheap.sku} above"):
        resolution_services.resolution_propose(ticket=ticket_about(make_ticket, cheap), actor=agent,
                                    kind="refund_only")  # the engine offers the item's 50
    resolution_services.resolution_propose(ticket=ticket_about(make_ticket, dear), actor=agent,
                                kind="refund_only")
    assert refunded(order=order) == Decimal("0.00")


def test_the_order_bounds_refunds_when_it_was_paid_less_than_its_items(make_ticket, agent):
    order, (first_item, second_item) = order_with_items("100.00", "100.00", paid="150.00")
    first = ready_resolution(ticket_about(make_ticket, first_item), refund="100.00")
    second = ready_resolution(ticket_about(make_ticket, second_item), refund="100.00")
    resolution_services.resolution_execute(resolution_id=first.pk, actor=agent)

    with pytest.raises(Conflict, match="the order above what was paid") as refused:
        resolution_services.resolution_execute(resolution_id=second.pk, actor=agent)

    assert "(150.00): 100.00 is refunded, 0.00 is reserved" in refused.value.message
    assert refunded(order=order) == Decimal("100.00")


# --- the ledger: reserved, paid, released ----------------------------------------------------
def test_a_payment_is_reserved_before_the_gateway_is_called_then_paid(
    make_ticket, agent, monkeypatch
):
    _order, (item,) = order_with_items("120.00")
    resolution = ready_resolution(ticket_about(make_ticket, item), refund="120.00")

    def ledger_now():
        return list(Payout.objects.values_list("state", "amount"))

    gateway, seen = gateway_that_meanwhile(ledger_now)
    monkeypatch.setattr("resolutions.services.resolutions.get_gateway", gateway)
    resolution_services.resolution_execute(resolution_id=resolution.pk, actor=agent)

    assert seen == [[(PayoutState.RESERVED, Decimal("120.00"))]]
    payout = Payout.objects.get()
    assert (payout.state, payout.amount, payout.order_item) == (PayoutState.PAID,
                                                                Decimal("120.00"), item)
    assert payout.gateway_reference.startswith("SIM-")
    assert payout.paid_at is not None
    assert payout.recorded_by == agent


def test_a_failed_payment_releases_its_reservation_and_a_retry_reserves_again(
    make_ticket, agent, settings
):
    order, (item,) = order_with_items("120.00")
    resolution = ready_resolution(ticket_about(make_ticket, item), refund="120.00")
    settings.SIMULATED_GATEWAY_FAILURES = {order.number}

    resolution_services.resolution_execute(resolution_id=resolution.pk, actor=agent)

    resolution.refresh_from_db()
    assert resolution.state == RS.FAILED
    assert Payout.objects.get().state == PayoutState.RELEASED
    assert refunded(order=order) == already_refunded(item) == Decimal("0.00")

    settings.SIMULATED_GATEWAY_FAILURES = set()
    resolution_services.resolution_execute(resolution_id=resolution.pk, actor=agent)
    payout = Payout.objects.get()  # the same row, reserved again, then paid
    assert (payout.state, payout.amount) == (PayoutState.PAID, Decimal("120.00"))
    assert already_refunded(item) == Decimal("120.00")


def test_a_retry_is_refused_when_the_money_went_elsewhere_meanwhile(
    make_ticket, agent, settings
):
    order, (item,) = order_with_items("120.00")
    failed = ready_resolution(ticket_about(make_ticket, item), refund="120.00")
    settings.SIMULATED_GATEWAY_FAILURES = {order.number}
    resolution_services.resolution_execute(resolution_id=failed.pk, actor=agent)
    failed.refresh_from_db()
    resolution_services.resolution_transition(resolution=failed, actor=agent, name="review", note="换方式")
    settings.SIMULATED_GATEWAY_FAILURES = set()
    other = ready_resolution(ticket_about(make_ticket, item), refund="120.00")
    resolution_services.resolution_execute(resolution_id=other.pk, actor=agent)

    failed.refresh_from_db()
    with pytest.raises(Conflict, match="above what was paid"):
        resolution_services.resolution_transition(resolution=failed, actor=agent, name="retry")

    failed.refresh_from_db()
    assert failed.state == RS.MANUAL_REVIEW
    assert refunded(order=order) == Decimal("120.00")


def test_several_payments_of_one_resolution_are_each_recorded_with_their_amount(
    make_ticket, agent
):
    order, (item,) = order_with_items("200.00")
    resolution = ready_resolution(ticket_about(make_ticket, item), refund="80.00",
                                  compensation="25.50", points=300, coupon_amount="10.00")

    resolution_services.resolution_execute(resolution_id=resolution.pk, actor=agent)

    rows = {payout.kind: payout for payout in Payout.objects.filter(resolution=resolution)}
    assert {kind: (row.amount, row.points, row.state) for kind, row in rows.items()} == {
        PayoutKind.REFUND: (Decimal("80.00"), 0, PayoutState.PAID),
        PayoutKind.COMPENSATION: (Decimal("25.50"), 0, PayoutState.PAID),
        PayoutKind.COUPON: (Decimal("10.00"), 0, PayoutState.PAID),
        PayoutKind.POINTS: (Decimal("0.00"), 300, PayoutState.PAID),
    }
    key = str(resolution.idempotency_key)
    assert {row.idempotency_key for row in rows.values()} == {
        f"{key}:{kind}" for kind in PayoutKind.values}
    # Compensation is not a refund: it does not eat into what may still be refunded.
    assert refunded(order=order) == Decimal("80.00")


def test_a_partly_paid_resolution_keeps_what_was_paid_when_the_rest_fails(
    make_ticket, agent, monkeypatch
):
    order, (item,) = order_with_items("200.00")
    resolution = ready_resolution(ticket_about(make_ticket, item), refund="80.00", points=300)
    real = payments.SimulatedGateway()

    class PointsDown:
        def pay(self, request):
            if request.kind == PayoutKind.POINTS:
                raise payments.PaymentFailed("points service down")
            return real.pay(request)

    monkeypatch.setattr("resolutions.services.resolutions.get_gateway", PointsDown)
    resolution_services.resolution_execute(resolution_id=resolution.pk, actor=agent)

    states = dict(Payout.objects.values_list("kind", "state"))
    assert states == {PayoutKind.REFUND: PayoutState.PAID, PayoutKind.POINTS: PayoutState.RELEASED}
    assert refunded(order=order) == Decimal("80.00")
    monkeypatch.undo()
    resolution_services.resolution_execute(resolution_id=resolution.pk, actor=agent)  # the sweep's retry
    assert set(Payout.objects.values_list("state", flat=True)) == {PayoutState.PAID}
    assert refunded(order=order) == Decimal("80.00")


def test_execution_records_the_acting_user_in_the_history(make_ticket, agent):
    _order, (item,) = order_with_items("120.00")
    resolution = ready_resolution(ticket_about(make_ticket, item), refund="120.00")

    resolution_services.resolution_transition(resolution=resolution, actor=agent, name="execute")

    entries = {entry.history_change_reason: entry.history_user
               for entry in resolution.history.all()}
    assert entries["transition:execute"] == agent
    assert entries["transition:complete"] == agent


# --- issue 7: manual settlement is a payout like any other ---------------------------------------
def manual_review_resolution(make_ticket, item, **amounts):
    return ready_resolution(ticket_about(make_ticket, item), state=RS.MANUAL_REVIEW,
                                  attempts=1, **amounts)


def test_a_manual_settlement_is_recorded_in_the_ledger_and_counted(make_ticket, agent, money_rules):
    order, (item,) = order_with_items("150.00")
    resolution = manual_review_resolution(make_ticket, item, refund="150.00", points=300)

    resolution_services.resolution_transition(resolution=resolution, actor=agent, name="complete_manually",
                                   note="银行转账 TX-889")

    resolution.refresh_from_db()
    assert resolution.state == RS.COMPLETED
    refund = Payout.objects.get(resolution=resolution, kind=PayoutKind.REFUND)
    assert (refund.state, refund.amount, refund.recorded_by) == (PayoutState.PAID,
                                                                 Decimal("150.00"), agent)
    assert refund.gateway_reference == "manual:银行转账 TX-889"
    assert Payout.objects.get(resolution=resolution, kind=PayoutKind.POINTS).points == 300
    assert already_refunded(item) == Decimal("150.00")
    # Nothing remains: the engine offers no refund and no second settlement fits.
    with pytest.raises(ValidationError, match="does not offer"):
        resolution_services.resolution_propose(ticket=ticket_about(make_ticket, item),
                                               actor=agent, kind="refund_only")
    second = manual_review_resolution(make_ticket, item, refund="1.00")
    with pytest.raises(Conflict, match="above what was paid"):
        resolution_services.resolution_complete_manually(resolution=second, actor=agent, note="现金")
    assert refunded(order=order) == Decimal("150.00")


def test_a_manual_settlement_needs_the_approvers_rights_and_limit(
    make_ticket, agent, senior_agent, supervisor, approval_limits
):
    _order, (item,) = order_with_items("3000.00")
    resolution = manual_review_resolution(make_ticket, item, refund="3000.00",
                                          approval_role="senior_agent")

    with pytest.raises(PermissionDenied, match="role"):
        resolution_services.resolution_complete_manually(resolution=resolution, actor=agent, note="转账")
    with pytest.raises(PermissionDenied, match="limit"):
        resolution_services.resolution_complete_manually(resolution=resolution, actor=senior_agent,
                                              note="转账")
    assert not Payout.objects.exists()
    resolution_services.resolution_complete_manually(resolution=resolution, actor=supervisor, note="转账")
    assert Payout.objects.get().recorded_by == supervisor


# --- issue 9: who may do what ---------------------------------------------------------------
def test_supervisors_cannot_approve_what_is_reserved_to_risk_legal(
    make_ticket, agent, supervisor, risk_officer, approval_limits
):
    _order, (item,) = order_with_items("120.00")
    resolution = ready_resolution(ticket_about(make_ticket, item), refund="120.00",
                                  approval_role="risk_legal", state=RS.ACCEPTED,
                                  proposed_by=agent)

    with pytest.raises(PermissionDenied):
        resolution_services.resolution_approve(resolution=resolution, actor=supervisor)
    resolution_services.resolution_approve(resolution=resolution, actor=risk_officer)
    resolution.refresh_from_db()
    assert resolution.approved_by == risk_officer


def test_rejecting_needs_approver_rights(make_ticket, agent, other_agent, senior_agent, approval_limits):
    _order, (item,) = order_with_items("120.00")
    resolution = ready_resolution(ticket_about(make_ticket, item), refund="120.00",
                                  approval_role="senior_agent", state=RS.ACCEPTED,
                                  proposed_by=agent)

    with pytest.raises(PermissionDenied):
        resolution_services.resolution_reject(resolution=resolution, actor=other_agent, reason="证据不足")
    resolution_services.resolution_reject(resolution=resolution, actor=senior_agent, reason="证据不足")
    resolution.refresh_from_db()
    assert resolution.state == RS.REJECTED


def test_retrying_needs_the_right_to_work_the_ticket(make_ticket, agent, other_agent):
    _order, (item,) = order_with_items("120.00")
    resolution = manual_review_resolution(make_ticket, item, refund="120.00")

    with pytest.raises(PermissionDenied):
        resolution_services.resolution_transition(resolution=resolution, actor=other_agent, name="retry")
    resolution.refresh_from_db()
    assert resolution.state == RS.MANUAL_REVIEW
    assert not Payout.objects.exists()


def test_a_role_without_an_approval_limit_row_may_approve_nothing(
    make_ticket, agent, complaint_specialist, approval_limits
):
    _order, (item,) = order_with_items("10.00")
    resolution = ready_resolution(ticket_about(make_ticket, item), refund="10.00",
                                  approval_role="agent", state=RS.ACCEPTED, proposed_by=agent)

    assert approval_limit(complaint_specialist) == Decimal("0")  # no row for the role
    with pytest.raises(PermissionDenied, match="limit"):
        resolution_services.resolution_approve(resolution=resolution, actor=complaint_specialist)



def test_the_audit_trail_shows_what_was_paid_not_what_was_released(make_ticket, agent,
                                                                    settings):
    from supervision.selectors.audit_trail import audit_trail

    order, (item,) = order_with_items("120.00")
    ticket = ticket_about(make_ticket, item)
    resolution = ready_resolution(ticket, refund="120.00")
    settings.SIMULATED_GATEWAY_FAILURES = {order.number}
    resolution_services.resolution_execute(resolution_id=resolution.pk, actor=agent)
    assert not [e for e in audit_trail(ticket=ticket) if e["subject"] == "payout"]

    settings.SIMULATED_GATEWAY_FAILURES = set()
    resolution_services.resolution_execute(resolution_id=resolution.pk, actor=agent)
    (paid,) = [e for e in audit_trail(ticket=ticket) if e["subject"] == "payout"]
    assert "120.00" in paid["action"]


def test_the_api_refuses_a_proposal_promising_money_already_promised_with_a_clear_409(
    make_ticket, agent, money_rules
):
    from django.urls import reverse
    from rest_framework.test import APIClient

    _order, (item,) = order_with_items("199.00")
    first, second = ticket_about(make_ticket, item), ticket_about(make_ticket, item)
    client = APIClient()
    client.force_authenticate(agent)

    created = client.post(reverse("ticket-resolutions", args=[first.number]),
                          {"kind": "refund_only"}, format="json")
    refused = client.post(reverse("ticket-resolutions", args=[second.number]),
                          {"kind": "refund_only"}, format="json")

    assert created.status_code == 201
    assert refused.status_code == 409
    assert refused.data["code"] == "refund_exceeds_paid"
    assert ("above what was paid (199.00): 0.00 is refunded, 0.00 is reserved by refunds "
            "being paid and 199.00 is promised") in refused.data["detail"]
