"""Random interleavings of every money step on one order, checking the invariant after each.

Hypothesis drives propose / accept / approve / execute / a failing gateway / review /
retry / the worker / manual settlement / cancel across three tickets and two items of one
order, plus resolutions approved before the proposal check existed (so the execution check
is tried too, not only the proposal check). After every step: per order and per item, the
refunds reserved plus paid stay within what was paid; nothing stays reserved once a step is
over; a completed resolution has every payment it granted recorded as paid, at its amount.

Each example builds a fresh order, items and tickets, so examples never see each other's
money; the whole test runs in the test's transaction and is rolled back at its end.
"""

from collections import Counter
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from core.services.exceptions import Conflict
from resolutions import services as resolution_services
from resolutions import tasks
from resolutions.models import Payout, PayoutKind, PayoutState, Resolution, ResolutionState
from tests.resolutions.money import (
    order_with_items,
    ready_resolution,
    refunded,
    ticket_about,
)

pytestmark = pytest.mark.django_db
RS = ResolutionState
REFUSALS = (Conflict, PermissionDenied, ValidationError)
KINDS = ("refund_only", "partial_refund", "compensation_cash", "compensation_points")
pick = st.integers(min_value=0, max_value=99)


class OrderMoney(RuleBasedStateMachine):
    """One order's resolutions under random steps; `people` and `make_ticket` set by the test."""

    people: dict
    make_ticket = None
    reached: Counter

    def __init__(self):
        super().__init__()
        # The order was paid less than its items (a discount), so the order bound matters too.
        self.order, self.items = order_with_items("120.00", "80.00", paid="180.00")
        self.tickets = [ticket_about(type(self).make_ticket, self.items[i % 2])
                        for i in range(3)]
        self.resolutions: list[int] = []

    # --- helpers ------------------------------------------------------------------------------
    def _pick(self, index: int, *states) -> Resolution | None:
        """Return one of the order's resolutions, mostly one in `states` (so steps bite)."""
        candidates = list(Resolution.objects.filter(pk__in=self.resolutions, state__in=states)
                          .order_by("pk")) if index % 4 else []
        candidates = candidates or list(Resolution.objects.filter(pk__in=self.resolutions)
                                        .order_by("pk"))
        return candidates[index % len(candidates)] if candidates else None

    def _try(self, call, step: str = ""):
        try:
            done = call()
        except Conflict as refusal:
            if refusal.code == "refund_exceeds_paid":
                self.reached[f"{step}:refused"] += 1
            return None
        except (PermissionDenied, ValidationError):
            return None
        self.reached[f"{step}:{getattr(done, 'state', '')}"] += 1
        return done

    def _gateway(self, failing: bool):
        return override_settings(
            SIMULATED_GATEWAY_FAILURES={self.order.number} if failing else set())

    # --- steps --------------------------------------------------------------------------------
    @initialize(amount=st.sampled_from(["40.00", "80.00", "120.00"]))
    def two_compete_for_one_item(self, amount):
        # Every example starts with a payment a person must settle and an approved refund
        # for the worker, on the same item: whichever goes first, the other must not fit.
        for state in (RS.MANUAL_REVIEW, RS.APPROVED):
            made = ready_resolution(self.tickets[0], refund=amount, state=state, attempts=1)
            self.resolutions.append(made.pk)

    @rule(ticket=pick, kind=st.sampled_from(KINDS))
    def propose(self, ticket, kind):
        made = self._try(lambda: resolution_services.resolution_propose(
            ticket=self.tickets[ticket % 3], actor=self.people["agent"], kind=kind), "propose")
        if made is not None:
            self.resolutions.append(made.pk)

    @rule(ticket=pick, amount=st.sampled_from(["30.00", "60.00", "80.00", "120.00"]),
          points=st.sampled_from([0, 50]), state=st.sampled_from([RS.APPROVED, RS.MANUAL_REVIEW]))
    def approved_before_the_check(self, ticket, amount, points, state):
        made = ready_resolution(self.tickets[ticket % 3], refund=amount, points=points,
                                compensation="5.00", state=state)
        self.resolutions.append(made.pk)

    @rule(index=pick)
    def accept(self, index):
        if resolution := self._pick(index, RS.PROPOSED):
            self._try(lambda: resolution_services.resolution_accept(resolution=resolution,
                                                         actor=self.people["agent"]))

    @rule(index=pick)
    def approve(self, index):
        if resolution := self._pick(index, RS.ACCEPTED):
            self._try(lambda: resolution_services.resolution_approve(resolution=resolution,
                                                          actor=self.people["supervisor"]))

    @rule(index=pick, failing=st.booleans())
    def execute(self, index, failing):
        if resolution := self._pick(index, RS.APPROVED, RS.FAILED):
            with self._gateway(failing):
                self._try(lambda: resolution_services.resolution_execute(resolution_id=resolution.pk,
                                                              actor=self.people["agent"]),
                          "execute")

    @rule(index=pick, failing=st.booleans())
    def worker(self, index, failing):
        if resolution := self._pick(index, RS.APPROVED):
            with self._gateway(failing):
                self.reached[f"worker:{tasks.resolution_execute_task(resolution.pk)}"] += 1

    @rule(index=pick)
    def review(self, index):
        if resolution := self._pick(index, RS.FAILED):
            self._try(lambda: resolution_services.resolution_review(
                resolution=resolution, actor=self.people["agent"]))

    @rule(index=pick, failing=st.booleans())
    def retry(self, index, failing):
        if resolution := self._pick(index, RS.MANUAL_REVIEW):
            with self._gateway(failing):
                self._try(lambda: resolution_services.resolution_retry(
                    resolution=resolution, actor=self.people["agent"]))

    @rule(index=pick)
    def complete_manually(self, index):
        if resolution := self._pick(index, RS.MANUAL_REVIEW):
            self._try(lambda: resolution_services.resolution_complete_manually(
                resolution=resolution, actor=self.people["supervisor"], note="银行转账"),
                "manual")

    @rule(index=pick)
    def cancel(self, index):
        if resolution := self._pick(index, RS.PROPOSED, RS.APPROVED, RS.MANUAL_REVIEW):
            self._try(lambda: resolution_services.resolution_cancel(
                resolution=resolution, actor=self.people["agent"], reason="客户撤回"))

    # --- what must hold after every step ------------------------------------------------------
    @invariant()
    def refunds_stay_within_what_was_paid(self):
        assert refunded(order=self.order) <= self.order.paid_amount
        for item in self.items:
            assert refunded(item=item) <= item.paid_amount

    @invariant()
    def completed_refunds_stay_within_what_was_paid(self):
        # Counted from the resolutions, not the ledger: a settlement that left no payout
        # row behind would still be seen here.
        completed = Resolution.objects.filter(pk__in=self.resolutions, state=RS.COMPLETED)
        assert sum((r.refund_amount for r in completed), Decimal("0.00")) <= (
            self.order.paid_amount)
        for item in self.items:
            assert sum((r.refund_amount for r in completed if r.order_item_id == item.pk),
                       Decimal("0.00")) <= item.paid_amount

    @invariant()
    def nothing_stays_reserved_between_steps(self):
        assert not Payout.objects.filter(order=self.order, state=PayoutState.RESERVED).exists()
        assert not Resolution.objects.filter(pk__in=self.resolutions,
                                             state=RS.EXECUTING).exists()

    @invariant()
    def a_completed_resolution_has_paid_what_it_granted(self):
        for resolution in Resolution.objects.filter(pk__in=self.resolutions,
                                                    state=RS.COMPLETED):
            paid = {(row.kind, row.amount, row.points)
                    for row in resolution.payouts.filter(state=PayoutState.PAID)}
            granted = {
                (PayoutKind.REFUND, resolution.refund_amount, 0),
                (PayoutKind.COMPENSATION, resolution.compensation_amount, 0),
                (PayoutKind.COUPON, resolution.coupon_amount, 0),
                (PayoutKind.POINTS, Decimal("0.00"), resolution.points),
            }
            assert paid == {entry for entry in granted if entry[1] > 0 or entry[2] > 0}
            assert not resolution.payouts.exclude(state=PayoutState.PAID).exists()


def test_no_interleaving_of_money_steps_refunds_more_than_was_paid(
    make_ticket, agent, supervisor, team, money_rules, approval_limits
):
    OrderMoney.people = {"agent": agent, "supervisor": supervisor}
    OrderMoney.make_ticket = staticmethod(make_ticket)
    OrderMoney.reached = Counter()

    run_state_machine_as_test(OrderMoney, settings=hypothesis_settings(
        max_examples=40, stateful_step_count=15, deadline=None, derandomize=True,
        database=None))

    # The steps reached the interesting places: paid, failed, settled by hand, refused.
    reached = OrderMoney.reached
    seen = " ".join(f"{key}={count}" for key, count in sorted(reached.items()))
    for outcome in ("execute:failed", "manual:completed", "manual:refused",
                    "worker:completed", "worker:manual_review", "propose:refused",
                    "propose:proposed"):
        assert reached[outcome], seen
