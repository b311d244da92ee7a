"""Resolutions: proposed from the policy's options, approved by the right people, paid once."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core.services.exceptions import Conflict
from policies.models import PolicyRule
from resolutions import services as resolution_services
from resolutions.models import Payout, Resolution, ResolutionState, SimulatedGatewayRecord
from tests.factories import OrderItemFactory
from tickets import services
from tickets.models import TicketState

# Real commits: approval and receipt queue the execution to run after commit, as in production.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("inline_tasks")]

RS = ResolutionState


@pytest.fixture
def rules(db):
    """A small rule table of our own, so these tests do not depend on the shipped defaults."""
    PolicyRule.objects.all().delete()
    common = {"source": "test"}
    return {
        "small_refund": PolicyRule.objects.create(
            name="Small refund", kind="refund_only", priority=30, reasons=["quality_defect"],
            max_item_amount=Decimal("100"), verdict="allow", refund_rule="item_remaining",
            auto_execute=True, **common),
        "refund": PolicyRule.objects.create(
            name="Refund needs a senior", kind="refund_only", priority=40,
            reasons=["quality_defect"], verdict="needs_approval", approval_role="senior_agent",
            refund_rule="item_remaining", **common),
        "return": PolicyRule.objects.create(
            name="Return", kind="return_refund", priority=41, reasons=["quality_defect"],
            verdict="allow", refund_rule="item_remaining", freight_payer="merchant", **common),
        "coupon": PolicyRule.objects.create(
            name="Sorry coupon", kind="compensation_coupon", priority=70,
            reasons=["quality_defect"], verdict="allow", coupon_amount=Decimal("10"), **common),
        "deny_exchange": PolicyRule.objects.create(
            name="No exchange", kind="exchange", priority=10, verdict="deny", **common),
    }


def ticket_for(make_ticket, price="299.00"):
    item = OrderItemFactory(paid_amount=Decimal(price), unit_price=Decimal(price),
                            order__paid_amount=Decimal(price))
    return make_ticket(TicketState.IN_PROGRESS, customer=item.order.customer, order=item.order,
                       order_item=item, request_reason="quality_defect", item_condition="opened")


def test_a_proposal_keeps_the_decision_it_was_made_on(make_ticket, agent, rules):
    ticket = ticket_for(make_ticket)

    resolution = resolution_services.resolution_propose(ticket=ticket, actor=agent, kind="refund_only")

    assert resolution.state == RS.PROPOSED
    assert resolution.refund_amount == Decimal("299.00")
    assert resolution.rule_id == rules["refund"].pk
    assert resolution.rule_version == rules["refund"].history.latest().history_id
    assert resolution.facts["reason"] == "quality_defect"
    assert resolution.explanation
    entry = resolution.history.latest()
    assert (entry.history_user, entry.history_change_reason) == (agent, "propose:refund_only")


def test_a_denied_or_unoffered_kind_cannot_be_proposed(make_ticket, agent, rules):
    ticket = ticket_for(make_ticket)

    with pytest.raises(ValidationError):
        resolution_services.resolution_propose(ticket=ticket, actor=agent, kind="exchange")
    with pytest.raises(ValidationError):
        resolution_services.resolution_propose(ticket=ticket, actor=agent, kind="repair")
    assert not Resolution.objects.exists()


def test_an_allowed_option_is_approved_when_the_customer_accepts(make_ticket, agent, rules):
    ticket = ticket_for(make_ticket)
    resolution = resolution_services.resolution_propose(ticket=ticket, actor=agent,
                                             kind="compensation_coupon")

    resolution_services.resolution_accept(resolution=resolution, actor=agent, note="客户同意")

    resolution.refresh_from_db()
    assert resolution.state == RS.COMPLETED
    assert resolution.approved_by is None  # within policy: nobody had to approve
    assert Payout.objects.get(resolution=resolution).amount == Decimal("10.00")


def test_small_refunds_run_without_an_agent(make_ticket, agent, rules):
    ticket = ticket_for(make_ticket, price="88.00")

    resolution = resolution_services.resolution_propose(ticket=ticket, actor=agent, kind="refund_only")

    resolution.refresh_from_db()
    assert resolution.state == RS.COMPLETED
    assert resolution.rule_id == rules["small_refund"].pk
    payout = Payout.objects.get(resolution=resolution)
    assert (payout.amount, payout.payer) == (Decimal("88.00"), "merchant")
    reasons = list(resolution.history.order_by("history_id")
                   .values_list("history_change_reason", flat=True))
    assert reasons == ["propose:refund_only", "transition:accept — automatic",
                       "transition:approve — within policy", "transition:execute",
                       "transition:complete"]


def test_maker_checker_the_proposer_cannot_approve(make_ticket, senior_agent, rules, approval_limits,
                                                   team):
    ticket = make_ticket_for_senior(make_ticket, senior_agent)
    resolution = resolution_services.resolution_propose(ticket=ticket, actor=senior_agent, kind="refund_only")
    resolution_services.resolution_accept(resolution=resolution, actor=senior_agent)

    with pytest.raises(PermissionDenied, match="proposed"):
        resolution_services.resolution_approve(resolution=resolution, actor=senior_agent)
    resolution.refresh_from_db()
    assert resolution.state == RS.ACCEPTED


def make_ticket_for_senior(make_ticket, senior_agent):
    ticket = ticket_for(make_ticket)
    ticket.assignee = senior_agent
    ticket.save(update_fields=["assignee"])
    return ticket


def test_a_role_below_the_approving_role_cannot_approve(make_ticket, agent, other_agent, rules,
                                                        approval_limits):
    ticket = ticket_for(make_ticket)
    resolution = resolution_services.resolution_propose(ticket=ticket, actor=agent, kind="refund_only")
    resolution_services.resolution_accept(resolution=resolution, actor=agent)

    with pytest.raises(PermissionDenied):
        resolution_services.resolution_approve(resolution=resolution, actor=other_agent)


def test_approval_limits_hold(make_ticket, agent, senior_agent, supervisor, rules, approval_limits):
    ticket = ticket_for(make_ticket, price="2999.00")
    resolution = resolution_services.resolution_propose(ticket=ticket, actor=agent, kind="refund_only")
    resolution_services.resolution_accept(resolution=resolution, actor=agent)

    # The option names the first role whose limit covers 2,999, not the senior agent (2,000);
    # the complaint specialist has no limit row here, so it is the supervisor.
    assert resolution.approval_role == "supervisor"
    with pytest.raises(PermissionDenied, match="needs the role Supervisor"):
        resolution_services.resolution_approve(resolution=resolution, actor=senior_agent)
    resolution_services.resolution_approve(resolution=resolution, actor=supervisor, comment="金额较大，已核实")

    resolution.refresh_from_db()
    assert resolution.state == RS.COMPLETED
    assert resolution.approved_by == supervisor


def test_a_double_execution_pays_once(make_ticket, agent, supervisor, rules, approval_limits):
    ticket = ticket_for(make_ticket)
    resolution = resolution_services.resolution_propose(ticket=ticket, actor=agent, kind="refund_only")
    resolution_services.resolution_accept(resolution=resolution, actor=agent)
    resolution_services.resolution_approve(resolution=resolution, actor=supervisor)  # executes once

    with pytest.raises(Conflict):
        resolution_services.resolution_execute(resolution_id=resolution.pk, actor=agent)

    assert Payout.objects.filter(resolution=resolution).count() == 1
    assert SimulatedGatewayRecord.objects.count() == 1


def test_a_retry_with_the_same_key_is_not_paid_again():
    from resolutions.services.payments import PaymentRequest, SimulatedGateway

    request = PaymentRequest(idempotency_key="k-1", kind="refund", amount=Decimal("5.00"),
                             points=0, order_number="TB1", payment_channel="alipay")
    first = SimulatedGateway().pay(request)
    second = SimulatedGateway().pay(request)

    assert first.reference == second.reference
    assert second.replayed
    assert SimulatedGatewayRecord.objects.count() == 1


def test_a_failed_payment_goes_to_manual_review_and_a_retry_pays_once(
    make_ticket, agent, supervisor, rules, approval_limits, settings
):
    ticket = ticket_for(make_ticket)
    settings.SIMULATED_GATEWAY_FAILURES = {ticket.order.number}
    resolution = resolution_services.resolution_propose(ticket=ticket, actor=agent, kind="refund_only")
    resolution_services.resolution_accept(resolution=resolution, actor=agent)
    resolution_services.resolution_approve(resolution=resolution, actor=supervisor)
    resolution.refresh_from_db()
    assert resolution.state == RS.FAILED
    assert "frozen" in resolution.failure_reason

    resolution_services.resolution_transition(resolution=resolution, actor=agent, name="review",
                                   note="已电话联系客户更换收款方式")
    settings.SIMULATED_GATEWAY_FAILURES = set()
    resolution_services.resolution_transition(resolution=resolution, actor=agent, name="retry")

    resolution.refresh_from_db()
    assert resolution.state == RS.COMPLETED
    assert resolution.attempts == 2
    assert Payout.objects.filter(resolution=resolution).count() == 1


def test_the_total_refunded_never_exceeds_what_was_paid(make_ticket, agent, rules):
    ticket = ticket_for(make_ticket, price="88.00")
    resolution_services.resolution_propose(ticket=ticket, actor=agent, kind="refund_only")  # refunds 88

    # A second refund of the same item is not offered by the engine: nothing is left of it.
    # (A refund forced past that is refused by the worker: tests/resolutions/
    # test_execution_refusals.py.)
    with pytest.raises(ValidationError, match="does not offer"):
        resolution_services.resolution_propose(ticket=ticket, actor=agent, kind="return_refund")
    total = sum(p.amount for p in Payout.objects.filter(order=ticket.order, kind="refund"))
    assert total == Decimal("88.00")


def test_a_return_waits_for_the_goods_before_the_refund(make_ticket, agent, rules):
    ticket = ticket_for(make_ticket)
    resolution = resolution_services.resolution_propose(ticket=ticket, actor=agent, kind="return_refund")
    resolution_services.resolution_accept(resolution=resolution, actor=agent)
    resolution.refresh_from_db()
    assert resolution.state == RS.AWAITING_RETURN
    with pytest.raises(Conflict):
        resolution_services.resolution_transition(resolution=resolution, actor=agent, name="execute")

    with pytest.raises(ValidationError):
        resolution_services.resolution_record_return(resolution=resolution, actor=agent, carrier="",
                                          tracking_number="")
    resolution_services.resolution_record_return(resolution=resolution, actor=agent, carrier="中通快递",
                                      tracking_number="ZT123456")
    resolution_services.resolution_receive_return(resolution=resolution, actor=agent, note="仓库已验收")

    resolution.refresh_from_db()
    assert resolution.state == RS.COMPLETED
    assert resolution.return_tracking_number == "ZT123456"
    assert Payout.objects.get(resolution=resolution).amount == Decimal("299.00")


def test_an_open_resolution_blocks_resolving_the_ticket(make_ticket, agent, rules):
    ticket = ticket_for(make_ticket)
    resolution_services.resolution_propose(ticket=ticket, actor=agent, kind="return_refund")

    with pytest.raises(Conflict):
        services.ticket_transition(ticket=ticket, actor=agent, name="resolve", summary="已处理")


def test_cancel_and_reject_need_a_reason_and_the_right_people(make_ticket, agent, other_agent,
                                                              supervisor, rules, approval_limits):
    ticket = ticket_for(make_ticket)
    resolution = resolution_services.resolution_propose(ticket=ticket, actor=agent, kind="refund_only")

    with pytest.raises(ValidationError):
        resolution_services.resolution_cancel(resolution=resolution, actor=agent, reason=" ")
    with pytest.raises(PermissionDenied):
        resolution_services.resolution_cancel(resolution=resolution, actor=other_agent, reason="不需要了")
    resolution_services.resolution_reject(resolution=resolution, actor=supervisor, reason="证据不足")

    resolution.refresh_from_db()
    assert resolution.state == RS.REJECTED
    assert resolution.history.latest().history_change_reason == "transition:reject — 证据不足"


# --- the API ------------------------------------------------------------------------------------
def api_as(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_options_endpoint_returns_the_decision_for_the_ticket(make_ticket, agent, rules, settings):
    settings.LANGUAGE_CODE = "en"
    ticket = ticket_for(make_ticket)

    body = api_as(agent).get(reverse("ticket-options", args=[ticket.number])).data

    kinds = {option["kind"]: option for option in body["options"]}
    assert kinds["refund_only"]["verdict"] == "needs_approval"
    assert kinds["refund_only"]["refund_amount"] == "299.00"
    assert kinds["exchange"]["verdict"] == "deny"
    assert body["ruleset_version"] > 0
    assert any(entry["outcome"] == "not_matched" for entry in body["trace"])


def test_resolutions_through_the_api_with_the_same_refusals_as_tickets(
    make_ticket, agent, supervisor, rules, approval_limits
):
    ticket = ticket_for(make_ticket)
    url = reverse("ticket-resolutions", args=[ticket.number])

    assert api_as(agent).post(url, {"kind": "exchange"}, format="json").status_code == 400
    created = api_as(agent).post(url, {"kind": "refund_only"}, format="json")
    assert created.status_code == 201
    transitions = reverse("resolution-transitions", args=[ticket.number, created.data["id"]])

    assert api_as(agent).post(transitions, {"name": "approve"}, format="json").status_code == 409
    assert api_as(agent).post(transitions, {"name": "accept"}, format="json").status_code == 200
    assert api_as(agent).post(transitions, {"name": "approve"}, format="json").status_code == 403
    approved = api_as(supervisor).post(transitions, {"name": "approve", "comment": "同意"},
                                       format="json")
    assert approved.status_code == 200
    assert approved.data["state"] == RS.COMPLETED
    listed = api_as(agent).get(url).data
    assert [r["state"] for r in listed] == [RS.COMPLETED]


def test_evaluate_endpoint_takes_the_facts_as_json(agent, rules):
    signed = timezone.now() - timedelta(days=2)
    payload = {
        "order": {"paid_amount": "88.00", "paid_at": (signed - timedelta(days=2)).isoformat(),
                  "shipped_at": (signed - timedelta(days=1)).isoformat(),
                  "signed_at": signed.isoformat(), "customer_tier": "normal"},
        "item": {"category": "electronics", "flags": [], "paid_amount": "88.00", "quantity": 1,
                 "already_refunded": "0.00"},
        "reason": "quality_defect", "item_condition": "opened", "evidence": ["photo"],
        "customer_history": {"refunds_90d": 0, "disputes_90d": 0}, "merchant_silent_hours": "0",
    }

    response = api_as(agent).post(reverse("policy-evaluate"), payload, format="json")

    assert response.status_code == 200
    refund = next(o for o in response.data["options"] if o["kind"] == "refund_only")
    assert refund["refund_amount"] == "88.00"
    assert refund["auto_execute"] is True
    assert refund["rule"]["id"] == rules["small_refund"].pk


@pytest.mark.parametrize(("change", "field"), [
    ({"reason": "because"}, "reason"),
    ({"item": {"category": "electronics", "paid_amount": "-1"}}, "item"),
    ({"order": {"paid_amount": "x"}}, "order"),
])
def test_evaluate_refuses_bad_facts_with_field_errors(agent, rules, change, field):
    payload = {"order": {"paid_amount": "10.00"},
               "item": {"category": "electronics", "paid_amount": "10.00"},
               "reason": "quality_defect"}
    payload.update(change)

    response = api_as(agent).post(reverse("policy-evaluate"), payload, format="json")

    assert response.status_code == 400
    assert field in response.data


def test_evaluate_needs_authentication():
    assert APIClient().post(reverse("policy-evaluate"), {}, format="json").status_code in (401, 403)
