"""Guards on the money: what the gateway is asked to pay, what the ledger records, and by whom.

Written against the mutants that survived mutation testing (docs/MUTATION_TESTING.md): each
test states a business rule about amounts, payment requests or the audit trail.
"""

import re
from decimal import Decimal

import pytest

from core.services.accounts import is_system_user
from core.services.exceptions import Conflict
from resolutions import services as resolution_services
from resolutions.models import (
    Payout,
    PayoutKind,
    PayoutState,
    ResolutionState,
    SimulatedGatewayRecord,
)
from resolutions.services import ledger, payments
from tests.resolutions.money import order_with_items, ready_resolution, refunded, ticket_about

pytestmark = pytest.mark.django_db
RS = ResolutionState


class RecordingGateway:
    """The simulated gateway, remembering every request it was asked to pay."""

    requests: list = []

    def pay(self, request):
        RecordingGateway.requests.append(request)
        return payments.SimulatedGateway().pay(request)


@pytest.fixture
def gateway(monkeypatch):
    RecordingGateway.requests = []
    monkeypatch.setattr("resolutions.services.resolutions.get_gateway", RecordingGateway)
    return RecordingGateway


def everything_granted(make_ticket, *, state=RS.APPROVED, refund="30.00", **fields):
    """A resolution granting a refund, cash compensation, a coupon and points at once."""
    order, (item,) = order_with_items("200.00")
    order.payment_channel = "wechat_pay"
    order.save()
    resolution = ready_resolution(ticket_about(make_ticket, item), refund=refund,
                                  compensation="20.00", coupon_amount=Decimal("10.00"),
                                  points=300, payer="platform", state=state, **fields)
    return order, item, resolution


# --- what the gateway is asked to pay ----------------------------------------------------------
def test_the_gateway_is_asked_for_each_granted_part_with_its_own_key(make_ticket, agent,
                                                                     gateway):
    order, _item, resolution = everything_granted(make_ticket)

    resolution_services.resolution_execute(resolution_id=resolution.pk, actor=agent)

    key = str(resolution.idempotency_key)
    asked = {(request.kind, request.amount, request.points, request.idempotency_key,
              request.order_number, request.payment_channel)
             for request in gateway.requests}
    assert asked == {
        ("refund", Decimal("30.00"), 0, f"{key}:refund", order.number, "wechat_pay"),
        ("compensation", Decimal("20.00"), 0, f"{key}:compensation", order.number, "wechat_pay"),
        ("coupon", Decimal("10.00"), 0, f"{key}:coupon", order.number, "wechat_pay"),
        ("points", Decimal("0.00"), 300, f"{key}:points", order.number, "wechat_pay"),
    }


def test_parts_that_were_not_granted_are_not_paid(make_ticket, agent, gateway):
    _order, (item,) = order_with_items("200.00")
    points_only = ready_resolution(ticket_about(make_ticket, item), points=500,
                                   kind="compensation_points")
    cash_only = ready_resolution(ticket_about(make_ticket, item), compensation="0.01",
                                 kind="compensation_cash")

    resolution_services.resolution_execute(resolution_id=points_only.pk, actor=agent)
    resolution_services.resolution_execute(resolution_id=cash_only.pk, actor=agent)

    assert [(r.kind, r.amount, r.points) for r in gateway.requests] == [
        ("points", Decimal("0.00"), 500), ("compensation", Decimal("0.01"), 0)]
    assert refunded(item=item) == Decimal("0.00")


# --- what the ledger records ---------------------------------------------------------------------
def test_each_paid_part_is_a_payout_row_with_its_amount_payer_and_reference(
    make_ticket, agent, gateway
):
    order, item, resolution = everything_granted(make_ticket)

    resolution_services.resolution_execute(resolution_id=resolution.pk, actor=agent)

    references = {record.idempotency_key: record.reference
                  for record in SimulatedGatewayRecord.objects.all()}
    rows = {payout.kind: payout for payout in Payout.objects.filter(resolution=resolution)}
    assert {kind: (row.amount, row.points) for kind, row in rows.items()} == {
        PayoutKind.REFUND: (Decimal("30.00"), 0),
        PayoutKind.COMPENSATION: (Decimal("20.00"), 0),
        PayoutKind.COUPON: (Decimal("10.00"), 0),
        PayoutKind.POINTS: (Decimal("0.00"), 300),
    }
    for row in rows.values():
        assert (row.state, row.order, row.order_item, row.payer, row.recorded_by) == (
            PayoutState.PAID, order, item, "platform", agent)
        assert row.gateway_reference == references[row.idempotency_key]
        assert row.paid_at is not None
        reasons = [(entry.history_change_reason, entry.history_user)
                   for entry in row.history.order_by("history_date", "history_id")]
        assert reasons == [("payout:reserve", agent), ("payout:paid", agent)]
    # Only the refund counts against what the item was paid.
    assert refunded(item=item) == Decimal("30.00")


def test_a_refused_payment_releases_every_unpaid_part_and_says_why(make_ticket, agent, settings):
    order, _item, resolution = everything_granted(make_ticket)
    settings.SIMULATED_GATEWAY_FAILURES = {order.number}

    resolution_services.resolution_execute(resolution_id=resolution.pk, actor=agent)

    resolution.refresh_from_db()
    assert resolution.state == RS.FAILED
    assert resolution.failure_reason == (
        f"account for order {order.number} is frozen (simulated)")
    rows = Payout.objects.filter(resolution=resolution)
    assert {row.state for row in rows} == {PayoutState.RELEASED}
    assert rows.count() == 4
    for row in rows:
        assert row.history.latest().history_change_reason == "payout:release"
        assert row.history.latest().history_user == agent
    entry = resolution.history.latest()
    assert (entry.history_user, entry.history_change_reason) == (
        agent, f"transition:fail — account for order {order.number} is frozen (simulated)")


def test_a_failed_payment_releases_only_its_own_reservation(make_ticket, agent, settings):
    order, (item,) = order_with_items("100.00")
    in_flight = ready_resolution(ticket_about(make_ticket, item), refund="60.00")
    ledger.reserve(resolution=in_flight, order=order, actor=agent,
                   requests=[payments.PaymentRequest(
                       idempotency_key=f"{in_flight.idempotency_key}:refund", kind="refund",
                       amount=Decimal("60.00"), points=0, order_number=order.number,
                       payment_channel=order.payment_channel)])
    failing = ready_resolution(ticket_about(make_ticket, item), refund="40.00")
    settings.SIMULATED_GATEWAY_FAILURES = {order.number}

    resolution_services.resolution_execute(resolution_id=failing.pk, actor=agent)

    assert Payout.objects.get(resolution=in_flight).state == PayoutState.RESERVED
    assert Payout.objects.get(resolution=failing).state == PayoutState.RELEASED
    assert refunded(item=item) == Decimal("60.00")


def test_a_retry_after_a_failure_reserves_again_for_whoever_retries(
    make_ticket, agent, senior_agent, settings
):
    order, _item, resolution = everything_granted(make_ticket)
    settings.SIMULATED_GATEWAY_FAILURES = {order.number}
    resolution_services.resolution_execute(resolution_id=resolution.pk, actor=agent)
    settings.SIMULATED_GATEWAY_FAILURES = set()

    resolution_services.resolution_execute(resolution_id=resolution.pk, actor=senior_agent)

    resolution.refresh_from_db()
    assert (resolution.state, resolution.attempts) == (RS.COMPLETED, 2)
    assert resolution.completed_at is not None
    rows = Payout.objects.filter(resolution=resolution)
    assert rows.count() == 4  # the released rows are reserved again, not added
    assert {(row.state, row.recorded_by) for row in rows} == {(PayoutState.PAID, senior_agent)}
    for row in rows:
        reserved_again = row.history.filter(history_change_reason="payout:reserve").latest()
        assert reserved_again.history_user == senior_agent


def test_a_retry_after_a_partial_payment_does_not_count_the_paid_part_twice(
    make_ticket, agent, monkeypatch
):
    # The whole item was refunded before the coupon failed: the retry pays only the rest.
    _order, item, resolution = everything_granted(make_ticket, refund="200.00")

    class CouponsDown:
        def pay(self, request):
            if request.kind == PayoutKind.COUPON:
                raise payments.PaymentFailed("coupon service down")
            return payments.SimulatedGateway().pay(request)

    monkeypatch.setattr("resolutions.services.resolutions.get_gateway", CouponsDown)
    resolution_services.resolution_execute(resolution_id=resolution.pk, actor=agent)
    monkeypatch.undo()

    retried = resolution_services.resolution_execute(resolution_id=resolution.pk, actor=agent)

    assert retried.state == RS.COMPLETED
    assert refunded(item=item) == Decimal("200.00")
    assert set(Payout.objects.filter(resolution=resolution).values_list("state", flat=True)) == {
        PayoutState.PAID}


def test_a_decision_is_taken_at_the_moment_asked_for(make_ticket):
    from datetime import timedelta

    from django.utils import timezone

    _order, (item,) = order_with_items("100.00")
    then = timezone.now() - timedelta(days=3)
    _version, _decision, facts, decided_item = resolution_services.ticket_decision(
        ticket=ticket_about(make_ticket, item), at=then)
    assert (facts.at, decided_item) == (then, item)


def test_a_manual_settlement_keeps_what_the_gateway_already_paid(make_ticket, agent, monkeypatch):
    # The whole item is refunded by the gateway; the settlement must not count it twice.
    _order, item, resolution = everything_granted(make_ticket, refund="200.00")

    class PaysOnlyTheRefund:
        def pay(self, request):
            if request.kind != PayoutKind.REFUND:
                raise payments.PaymentFailed("coupon service down")
            return payments.SimulatedGateway().pay(request)

    monkeypatch.setattr("resolutions.services.resolutions.get_gateway", PaysOnlyTheRefund)
    resolution_services.resolution_execute(resolution_id=resolution.pk, actor=agent)
    refund = Payout.objects.get(resolution=resolution, kind=PayoutKind.REFUND)
    gateway_reference = refund.gateway_reference
    resolution.refresh_from_db()
    resolution_services.resolution_review(resolution=resolution, actor=agent)

    note = "线下补发：" + "优惠券与积分已由运营后台手工发放，" * 6
    resolution_services.resolution_complete_manually(resolution=resolution, actor=agent, note=note)

    rows = {row.kind: row for row in Payout.objects.filter(resolution=resolution)}
    assert rows[PayoutKind.REFUND].gateway_reference == gateway_reference  # not overwritten
    for kind in (PayoutKind.COMPENSATION, PayoutKind.COUPON, PayoutKind.POINTS):
        assert rows[kind].state == PayoutState.PAID
        assert rows[kind].gateway_reference == f"manual:{note}"[:80]
        assert rows[kind].recorded_by == agent
        assert rows[kind].paid_at is not None
        entry = rows[kind].history.latest()
        assert (entry.history_change_reason, entry.history_user) == ("payout:manual", agent)
    assert len(rows) == 4
    assert refunded(item=item) == Decimal("200.00")


def test_a_manual_settlement_is_bounded_by_the_item_as_well_as_the_order(make_ticket, agent):
    order, (item, _other) = order_with_items("100.00", "100.00")
    resolution_services.resolution_execute(
        resolution_id=ready_resolution(ticket_about(make_ticket, item), refund="100.00").pk,
        actor=agent)
    settled_elsewhere = ready_resolution(ticket_about(make_ticket, item), refund="1.00",
                                         state=RS.MANUAL_REVIEW)

    with pytest.raises(Conflict, match=f"item {item.sku} above what was paid"):
        resolution_services.resolution_complete_manually(resolution=settled_elsewhere,
                                                         actor=agent, note="现金")
    assert refunded(order=order) == Decimal("100.00")


def test_a_manual_settlement_of_a_never_attempted_part_records_it_in_full(make_ticket, agent):
    _order, item, resolution = everything_granted(make_ticket, state=RS.MANUAL_REVIEW)

    resolution_services.resolution_complete_manually(resolution=resolution, actor=agent, note="现金")

    rows = {row.kind: row for row in Payout.objects.filter(resolution=resolution)}
    assert {kind: (row.amount, row.points, row.payer, row.order_item) for kind, row in
            rows.items()} == {
        PayoutKind.REFUND: (Decimal("30.00"), 0, "platform", item),
        PayoutKind.COMPENSATION: (Decimal("20.00"), 0, "platform", item),
        PayoutKind.COUPON: (Decimal("10.00"), 0, "platform", item),
        PayoutKind.POINTS: (Decimal("0.00"), 300, "platform", item),
    }


def test_a_single_point_is_still_paid(make_ticket, agent, gateway):
    _order, (item,) = order_with_items("200.00")
    one_point = ready_resolution(ticket_about(make_ticket, item), points=1,
                                 kind="compensation_points")
    resolution_services.resolution_execute(resolution_id=one_point.pk, actor=agent)
    assert [(r.kind, r.points) for r in gateway.requests] == [("points", 1)]


# --- refunds stay within what was paid, to the cent --------------------------------------------
def test_compensation_does_not_count_against_what_was_paid(make_ticket, agent):
    # Statutory compensation may exceed the price; only refunds are bounded by the paid amount.
    _order, (item,) = order_with_items("100.00")
    cash = ready_resolution(ticket_about(make_ticket, item), compensation="300.00",
                            coupon_amount=Decimal("50.00"), kind="compensation_cash")
    resolution_services.resolution_execute(resolution_id=cash.pk, actor=agent)

    refund = ready_resolution(ticket_about(make_ticket, item), refund="100.00")
    assert resolution_services.resolution_execute(resolution_id=refund.pk, actor=agent).state == RS.COMPLETED
    assert refunded(item=item) == Decimal("100.00")


def test_a_refund_of_exactly_what_remains_fits_and_a_cent_more_does_not(make_ticket, agent):
    order, (item, other) = order_with_items("100.00", "60.00")
    first = ready_resolution(ticket_about(make_ticket, item), refund="70.00")
    resolution_services.resolution_execute(resolution_id=first.pk, actor=agent)

    too_much = ready_resolution(ticket_about(make_ticket, item), refund="30.01")
    with pytest.raises(Conflict) as refused:
        resolution_services.resolution_execute(resolution_id=too_much.pk, actor=agent)
    assert refused.value.code == "refund_exceeds_paid"
    assert "70.00 is refunded" in refused.value.message
    assert f"item {item.sku}" in refused.value.message

    exact = ready_resolution(ticket_about(make_ticket, item), refund="30.00")
    resolution_services.resolution_execute(resolution_id=exact.pk, actor=agent)
    assert refunded(item=item) == Decimal("100.00")
    assert refunded(order=order) == Decimal("100.00")
    # The other item still has its own 60.00.
    rest = ready_resolution(ticket_about(make_ticket, other), refund="60.00")
    resolution_services.resolution_execute(resolution_id=rest.pk, actor=agent)
    assert refunded(order=order) == Decimal("160.00")


def test_the_order_refuses_a_refund_that_fits_the_item_but_not_the_order(make_ticket, agent):
    # The order was paid less than its items (a store discount): the order bounds refunds.
    order, (item, other) = order_with_items("100.00", "100.00", paid="150.00")
    resolution_services.resolution_execute(
        resolution_id=ready_resolution(ticket_about(make_ticket, item), refund="100.00").pk,
        actor=agent)

    late = ready_resolution(ticket_about(make_ticket, other), refund="50.01")
    with pytest.raises(Conflict) as refused:
        resolution_services.resolution_execute(resolution_id=late.pk, actor=agent)
    assert "take the order above what was paid (150.00)" in refused.value.message
    assert "100.00 is refunded, 0.00 is reserved" in refused.value.message
    late_fits = ready_resolution(ticket_about(make_ticket, other), refund="50.00")
    resolution_services.resolution_execute(resolution_id=late_fits.pk, actor=agent)
    assert refunded(order=order) == Decimal("150.00")


def test_the_refund_position_counts_paid_reserved_and_promised_separately(make_ticket, agent):
    order, (item,) = order_with_items("300.00")
    paid = ready_resolution(ticket_about(make_ticket, item), refund="100.00")
    resolution_services.resolution_execute(resolution_id=paid.pk, actor=agent)
    reserved = ready_resolution(ticket_about(make_ticket, item), refund="50.00")
    ledger.reserve(resolution=reserved, order=order, actor=agent,
                   requests=[payments.PaymentRequest(
                       idempotency_key=f"{reserved.idempotency_key}:refund", kind="refund",
                       amount=Decimal("50.00"), points=0, order_number=order.number,
                       payment_channel=order.payment_channel)])
    promised = ready_resolution(ticket_about(make_ticket, item), refund="70.00",
                                state=RS.ACCEPTED)
    ready_resolution(ticket_about(make_ticket, item), refund="999.00", state=RS.CANCELLED)

    for scope in ({"order": order}, {"item": item}):
        position = ledger.refund_position(paid=Decimal("300.00"), count_promises=True, **scope)
        assert (position.refunded, position.reserved, position.promised, position.taken) == (
            Decimal("100.00"), Decimal("50.00"), Decimal("70.00"), Decimal("220.00"))
        # Without promises, and leaving out one resolution's own share.
        position = ledger.refund_position(paid=Decimal("300.00"), exclude=reserved, **scope)
        assert (position.reserved, position.promised, position.taken) == (
            Decimal("0.00"), Decimal("0.00"), Decimal("100.00"))
        position = ledger.refund_position(paid=Decimal("300.00"), exclude=promised,
                                          count_promises=True, **scope)
        assert position.taken == Decimal("150.00")

    # 300 paid, 220 taken: 80.00 remain for a new proposal, not a cent more.
    ledger.require_refund_fits(order=order, item=item, amount=Decimal("80.00"),
                               count_promises=True)
    for scope_item in (item, None):
        with pytest.raises(Conflict):
            ledger.require_refund_fits(order=order, item=scope_item, amount=Decimal("80.01"),
                                       count_promises=True)
    # Without the promises, 150.00 remain.
    ledger.require_refund_fits(order=order, item=item, amount=Decimal("150.00"))
    with pytest.raises(Conflict):
        ledger.require_refund_fits(order=order, item=item, amount=Decimal("150.01"))


def test_nothing_to_refund_always_fits(make_ticket, agent):
    order, (item,) = order_with_items("10.00")
    resolution_services.resolution_execute(
        resolution_id=ready_resolution(ticket_about(make_ticket, item), refund="10.00").pk,
        actor=agent)
    ledger.require_refund_fits(order=order, item=item, amount=Decimal("0.00"),
                               count_promises=True)


# --- the simulated gateway keeps its promise: one key, one payment --------------------------------
def payment(key="K-1", order_number="TB1", amount="12.50"):
    return payments.PaymentRequest(idempotency_key=key, kind="refund", amount=Decimal(amount),
                                   points=0, order_number=order_number, payment_channel="alipay")


def test_the_simulated_gateway_pays_a_key_once_and_replays_it(settings):
    settings.SIMULATED_GATEWAY_FAILURES = {"TB-OTHER"}
    gateway = payments.SimulatedGateway()

    first = gateway.pay(payment())
    again = gateway.pay(payment())

    assert re.fullmatch(r"SIM-[0-9A-F]{16}", first.reference)
    assert first.replayed is False
    assert (again.reference, again.replayed) == (first.reference, True)
    record = SimulatedGatewayRecord.objects.get()
    assert (record.idempotency_key, record.amount, record.reference) == (
        "K-1", Decimal("12.50"), first.reference)
    assert gateway.pay(payment(key="K-2")).reference != first.reference


def test_a_key_already_paid_is_replayed_even_if_the_account_is_frozen_since(settings):
    gateway = payments.SimulatedGateway()
    paid = gateway.pay(payment())
    settings.SIMULATED_GATEWAY_FAILURES = {"TB1"}

    again = gateway.pay(payment())

    assert (again.reference, again.replayed) == (paid.reference, True)


def test_a_concurrent_attempt_with_the_same_key_gets_the_winners_payment(monkeypatch):
    # The other attempt pays between this one's look-up and its insert (injected where the
    # reference is drawn): the unique key refuses the second payment and its answer is returned.
    real_uuid4 = payments.uuid.uuid4
    winner = []

    def other_attempt_pays_first():
        winner.append(SimulatedGatewayRecord.objects.create(
            idempotency_key="K-1", amount=Decimal("12.50"), reference="SIM-WINNER"))
        return real_uuid4()

    monkeypatch.setattr(payments.uuid, "uuid4", other_attempt_pays_first)

    result = payments.SimulatedGateway().pay(payment())

    assert winner
    assert (result.reference, result.replayed) == ("SIM-WINNER", True)
    assert SimulatedGatewayRecord.objects.count() == 1


def test_the_simulated_gateway_refuses_listed_orders_or_all_of_them(settings):
    gateway = payments.SimulatedGateway()
    settings.SIMULATED_GATEWAY_FAILURES = {"TB1"}
    with pytest.raises(payments.PaymentFailed, match="account for order TB1 is frozen"):
        gateway.pay(payment())
    assert gateway.pay(payment(key="K-2", order_number="TB2")).replayed is False
    settings.SIMULATED_GATEWAY_FAILURES = "*"
    with pytest.raises(payments.PaymentFailed):
        gateway.pay(payment(key="K-3", order_number="TB3"))
    assert SimulatedGatewayRecord.objects.count() == 1


def test_the_configured_gateway_is_used(settings):
    settings.PAYMENT_GATEWAY = "resolutions.services.payments.SimulatedGateway"
    assert isinstance(payments.get_gateway(), payments.SimulatedGateway)


# --- an execution left behind is finished by the system ---------------------------------------
def test_a_stalled_execution_is_finished_with_the_same_keys_by_the_system(make_ticket, agent,
                                                                        gateway):
    order, item, resolution = everything_granted(make_ticket)
    resolution_services.resolution_execute(resolution_id=resolution.pk, actor=agent)
    first_keys = {request.idempotency_key for request in gateway.requests}
    # As if the run had died after reserving: the rows reserved, the resolution executing.
    Payout.objects.filter(resolution=resolution).update(state=PayoutState.RESERVED,
                                                        paid_at=None)
    Resolution = type(resolution)
    Resolution.objects.filter(pk=resolution.pk).update(state=RS.EXECUTING)
    gateway.requests.clear()

    finished = resolution_services.resolution_finish_stalled(resolution_id=resolution.pk)

    assert finished.state == RS.COMPLETED
    assert {request.idempotency_key for request in gateway.requests} == first_keys
    assert {request.order_number for request in gateway.requests} == {order.number}
    assert set(Payout.objects.filter(resolution=resolution).values_list("state", flat=True)) == {
        PayoutState.PAID}
    assert is_system_user(finished.history.latest().history_user)
    assert refunded(item=item) == Decimal("30.00")


def test_finishing_leaves_an_execution_that_is_not_stalled_alone(make_ticket, agent, gateway):
    _order, _item, resolution = everything_granted(make_ticket)

    untouched = resolution_services.resolution_finish_stalled(resolution_id=resolution.pk)

    assert untouched.state == RS.APPROVED
    assert gateway.requests == []
    assert not Payout.objects.exists()


# --- executions by state ---------------------------------------------------------------------------
def test_a_return_executes_early_only_when_the_rule_refunds_on_shipment(make_ticket, agent):
    _order, (item,) = order_with_items("100.00")
    waiting = ready_resolution(ticket_about(make_ticket, item), refund="40.00",
                               kind="return_refund", state=RS.AWAITING_RETURN,
                               auto_execute=True)
    with pytest.raises(Conflict, match="Wait until the returned goods are received") as refused:
        resolution_services.resolution_execute(resolution_id=waiting.pk, actor=agent)  # no tracking yet
    assert refused.value.code == "awaiting_return"
    not_trusted = ready_resolution(ticket_about(make_ticket, item), refund="40.00",
                                   kind="return_refund", state=RS.AWAITING_RETURN,
                                   return_tracking_number="SF1")
    with pytest.raises(Conflict):
        resolution_services.resolution_execute(resolution_id=not_trusted.pk, actor=agent)
    assert not Payout.objects.exists()

    resolution_services.resolution_record_return(resolution=waiting, actor=agent, carrier="顺丰",
                                      tracking_number="SF2")
    paid = resolution_services.resolution_execute(resolution_id=waiting.pk, actor=agent)
    assert paid.state == RS.COMPLETED
    assert refunded(item=item) == Decimal("40.00")


def test_an_automatic_retry_counts_the_attempt_and_a_finished_one_is_refused(make_ticket, agent,
                                                                             settings):
    order, (item,) = order_with_items("100.00")
    resolution = ready_resolution(ticket_about(make_ticket, item), refund="40.00")
    settings.SIMULATED_GATEWAY_FAILURES = {order.number}
    resolution_services.resolution_execute(resolution_id=resolution.pk, actor=agent)
    settings.SIMULATED_GATEWAY_FAILURES = set()

    retried = resolution_services.resolution_execute(resolution_id=resolution.pk)

    assert (retried.state, retried.attempts) == (RS.COMPLETED, 2)
    entries = [entry.history_change_reason for entry in retried.history.all()]
    assert "transition:retry_failed" in entries
    with pytest.raises(Conflict) as refused:
        resolution_services.resolution_execute(resolution_id=resolution.pk, actor=agent)
    assert refused.value.code == "transition_not_allowed"
    assert refunded(item=item) == Decimal("40.00")


# --- approval hands the resolution on at commit -------------------------------------------------
def test_an_approved_refund_is_paid_when_the_approval_commits(
    make_ticket, agent, senior_agent, inline_tasks, approval_limits,
    django_capture_on_commit_callbacks
):
    _order, (item,) = order_with_items("100.00")
    resolution = ready_resolution(ticket_about(make_ticket, item), refund="60.00",
                                  approval_role="senior_agent", state=RS.ACCEPTED,
                                  proposed_by=agent)

    with django_capture_on_commit_callbacks(execute=True):
        resolution_services.resolution_approve(resolution=resolution, actor=senior_agent)

    resolution.refresh_from_db()
    assert resolution.state == RS.COMPLETED
    assert refunded(item=item) == Decimal("60.00")


def test_an_approved_return_waits_for_the_parcel_and_pays_nothing_yet(
    make_ticket, agent, senior_agent, inline_tasks, approval_limits,
    django_capture_on_commit_callbacks
):
    _order, (item,) = order_with_items("100.00")
    resolution = ready_resolution(ticket_about(make_ticket, item), refund="60.00",
                                  kind="return_refund", approval_role="senior_agent",
                                  state=RS.ACCEPTED, proposed_by=agent)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        resolution_services.resolution_approve(resolution=resolution, actor=senior_agent)

    resolution.refresh_from_db()
    assert resolution.state == RS.AWAITING_RETURN
    assert callbacks == []
    waiting = resolution.history.latest()
    assert waiting.history_change_reason == "transition:await_return"
    assert is_system_user(waiting.history_user)  # the system moved it on, not the approver
    assert refunded(item=item) == Decimal("0.00")

    # Refund on shipment is for rules that trust the tracking number only.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        resolution_services.resolution_record_return(resolution=resolution, actor=agent, carrier="顺丰",
                                          tracking_number="SF3")
    assert callbacks == []
    with django_capture_on_commit_callbacks(execute=True):
        resolution_services.resolution_receive_return(resolution=resolution, actor=agent)
    resolution.refresh_from_db()
    assert resolution.state == RS.COMPLETED
    assert refunded(item=item) == Decimal("60.00")


def test_a_trusted_tracking_number_pays_the_refund_on_shipment(
    make_ticket, agent, inline_tasks, django_capture_on_commit_callbacks
):
    _order, (item,) = order_with_items("100.00")
    resolution = ready_resolution(ticket_about(make_ticket, item), refund="60.00",
                                  kind="return_refund", state=RS.AWAITING_RETURN,
                                  auto_execute=True)

    with django_capture_on_commit_callbacks(execute=True):
        resolution_services.resolution_record_return(resolution=resolution, actor=agent, carrier="顺丰",
                                          tracking_number="SF4")

    resolution.refresh_from_db()
    assert resolution.state == RS.COMPLETED
    assert refunded(item=item) == Decimal("60.00")


# --- a refusal is handed to the people who must act, and only to them ---------------------------
def refuse_a_refund(make_ticket, agent, **ticket_fields):
    from resolutions import tasks

    _order, (item,) = order_with_items("100.00")
    resolution_services.resolution_execute(
        resolution_id=ready_resolution(ticket_about(make_ticket, item), refund="100.00").pk,
        actor=agent)
    late = ready_resolution(ticket_about(make_ticket, item, **ticket_fields), refund="100.00")
    assert tasks.resolution_execute_task(late.pk) == RS.MANUAL_REVIEW


def told():
    from notifications.models import OutboxMessage

    return {message.recipient_user.username for message in
            OutboxMessage.objects.filter(template="resolution.execution_refused")}


@pytest.fixture
def elsewhere(db):
    """People of another team, and a QA inspector who sits in the after-sales team."""
    from django.contrib.auth.models import Group

    from tests.factories import TeamFactory, UserFactory

    other_team = TeamFactory(code="vip_desk")
    people = {}
    for username, role in [("senior_elsewhere", "senior_agent"), ("agent_elsewhere", "agent")]:
        people[username] = UserFactory(username=username)
        people[username].groups.add(Group.objects.get(name=role))
        other_team.members.add(people[username])
    people["qa_in_team"] = UserFactory(username="qa_in_team")
    people["qa_in_team"].groups.add(Group.objects.get(name="qa"))
    people["gone_supervisor"] = UserFactory(username="gone_supervisor", is_active=False)
    people["gone_supervisor"].groups.add(Group.objects.get(name="supervisor"))
    return people


def test_an_assigned_refusal_tells_the_assignee_the_team_lead_and_the_supervisors(
    make_ticket, agent, other_agent, senior_agent, supervisor, team, elsewhere
):
    team.members.add(elsewhere["qa_in_team"])
    refuse_a_refund(make_ticket, agent)
    assert told() == {agent.username, senior_agent.username, supervisor.username}


def test_an_unassigned_refusal_tells_the_working_members_of_the_team(
    make_ticket, agent, other_agent, senior_agent, supervisor, team, elsewhere
):
    team.members.add(elsewhere["qa_in_team"])
    refuse_a_refund(make_ticket, agent, assignee=None)
    assert told() == {agent.username, other_agent.username, senior_agent.username,
                      supervisor.username}


def test_a_held_resolution_tells_each_person_once_however_often_the_job_is_delivered(
    make_ticket, agent, senior_agent, supervisor, risk_officer
):
    from notifications.models import OutboxMessage
    from resolutions import tasks
    from tickets.services import legal_holds

    _order, (item,) = order_with_items("100.00")
    ticket = ticket_about(make_ticket, item)
    resolution = ready_resolution(ticket, refund="100.00")
    legal_holds.legal_hold_place(ticket=ticket, actor=risk_officer, reason="律师函")

    assert tasks.resolution_execute_task(resolution.pk) == "held: approved"
    assert tasks.resolution_execute_task(resolution.pk) == "held: approved"

    assert told() == {agent.username, senior_agent.username, supervisor.username}
    assert OutboxMessage.objects.filter(template="resolution.execution_refused").count() == 3
    assert not Payout.objects.exists()


def test_a_proposal_keeps_its_facts_as_plain_json(make_ticket, agent, money_rules):
    order, (item,) = order_with_items("100.00")
    order.freight_insured = True
    order.save()
    item.no_return_confirmed = True
    item.save()

    resolution = resolution_services.resolution_propose(ticket=ticket_about(make_ticket, item), actor=agent,
                                             kind="refund_only")

    resolution.refresh_from_db()
    flags = resolution.facts["item_flags"]  # a set of names, kept as a sorted list
    assert flags == sorted(flags)
    assert {"freight_insured", "no_return_confirmed"} <= set(flags)
    assert resolution.facts["item_paid_amount"] == "100.00"  # money as a string, exactly
    assert resolution.facts["item_quantity"] == item.quantity  # numbers stay numbers
    assert resolution.facts["promised_delivery_at"] is None  # and nothing stays nothing
    # The explanation shown to agents: message keys with their parameters.
    assert resolution.explanation
    # (and, for the rule's number and source, who reads them: reviewers)
    assert all(set(entry) in ({"key", "params"}, {"key", "params", "audience"})
               for entry in resolution.explanation)
    assert resolution.refund_amount == Decimal("100.00")
    assert resolution.proposed_by == agent


def test_a_refund_that_no_longer_fits_on_a_held_ticket_only_tells(
    make_ticket, agent, senior_agent, supervisor, risk_officer
):
    from resolutions import tasks
    from tickets.services import legal_holds

    _order, (item,) = order_with_items("100.00")
    resolution_services.resolution_execute(
        resolution_id=ready_resolution(ticket_about(make_ticket, item), refund="100.00").pk,
        actor=agent)
    ticket = ticket_about(make_ticket, item)
    late = ready_resolution(ticket, refund="100.00")
    legal_holds.legal_hold_place(ticket=ticket, actor=risk_officer, reason="律师函")

    assert tasks.resolution_execute_task(late.pk) == "held: approved"

    late.refresh_from_db()
    assert late.state == RS.APPROVED  # frozen: not even referred for review
    assert told() == {agent.username, senior_agent.username, supervisor.username}
    assert refunded(item=item) == Decimal("100.00")
