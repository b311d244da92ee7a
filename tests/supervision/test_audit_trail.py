"""One audit trail: the ticket, its messages, resolutions and payouts, oldest first."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from policies.models import ApprovalLimit, PolicyRule
from resolutions import services as resolution_services
from supervision.selectors.audit_trail import audit_trail, describe_reason
from tests.factories import OrderItemFactory
from tickets import services

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def refunded_ticket(make_ticket, agent, supervisor, settings):
    """A ticket whose refund an agent proposed, a supervisor approved, and the gateway paid."""
    settings.TASKS_RUN_INLINE = True
    PolicyRule.objects.all().delete()
    PolicyRule.objects.create(
        name="Refund needs a supervisor", kind="refund_only", priority=10,
        reasons=["quality_defect"], verdict="needs_approval", approval_role="supervisor",
        refund_rule="item_remaining", source="test")
    ApprovalLimit.objects.update_or_create(role="supervisor", defaults={"max_amount": None})
    item = OrderItemFactory(paid_amount=Decimal("88.00"))
    ticket = make_ticket(customer=item.order.customer, order=item.order, order_item=item,
                         request_reason="quality_defect")
    services.message_add(ticket=ticket, actor=agent, kind="reply", body="已为您申请退款")
    resolution = resolution_services.resolution_propose(ticket=ticket, actor=agent, kind="refund_only")
    resolution_services.resolution_accept(resolution=resolution, actor=agent)
    resolution_services.resolution_approve(resolution=resolution, actor=supervisor, comment="属实")
    return ticket


def test_the_trail_merges_every_part_of_the_ticket_in_time_order(refunded_ticket, agent,
                                                                   supervisor):
    entries = audit_trail(ticket=refunded_ticket)

    assert [entry["at"] for entry in entries] == sorted(entry["at"] for entry in entries)
    assert {entry["subject"] for entry in entries} == {"ticket", "message", "resolution",
                                                      "payout"}
    approve = next(e for e in entries if e["reason"].startswith("transition:approve"))
    assert approve["actor"] == supervisor
    assert approve["comment"] == "属实"
    changed = {change["field"]: change for change in approve["changes"]}
    assert changed["approved_by"]["new"] == str(supervisor)  # people by name, not by id
    assert str(changed["state"]["new"]) == "Approved"
    payout = next(e for e in entries if e["subject"] == "payout")
    assert "88.00" in payout["action"]


def test_the_trail_filters_by_acting_user(refunded_ticket, agent, supervisor):
    mine = audit_trail(ticket=refunded_ticket, user=agent)
    theirs = audit_trail(ticket=refunded_ticket, user=supervisor)

    assert mine
    assert {entry["actor_id"] for entry in mine} == {agent.pk}
    assert [entry["reason"].split(" — ")[0] for entry in theirs] == ["transition:approve"]


def test_the_trail_filters_by_date_range(refunded_ticket):
    everything = audit_trail(ticket=refunded_ticket)
    middle = everything[len(everything) // 2]["at"]

    later = audit_trail(ticket=refunded_ticket, since=middle)
    earlier = audit_trail(ticket=refunded_ticket, until=middle - timedelta(microseconds=1))
    future = audit_trail(ticket=refunded_ticket, since=timezone.now() + timedelta(days=1))

    assert len(later) + len(earlier) == len(everything)
    assert all(entry["at"] >= middle for entry in later)
    assert future == []


@pytest.mark.parametrize(("reason", "label", "comment"), [
    ("transition:resolve — 已退款", "Resolve", "已退款"),
    ("escalate:l2 — 客户投诉", "Escalated to L2 · dispute", "客户投诉"),
    ("propose:refund_only", "Proposed: Refund only", ""),
    ("transition:approve", "Approve", ""),
    ("something:new", "Changed", ""),
])
def test_reasons_read_as_actions(reason, label, comment, settings):
    settings.LANGUAGE_CODE = "en"

    assert describe_reason(reason) == (label, comment)


def test_a_payout_settled_by_a_person_names_them(make_ticket, agent):
    from resolutions.models import ResolutionState
    from tests.resolutions.money import order_with_items, ready_resolution, ticket_about

    _order, (item,) = order_with_items("150.00")
    ticket = ticket_about(make_ticket, item)
    resolution = ready_resolution(ticket, refund="150.00", state=ResolutionState.MANUAL_REVIEW,
                                  attempts=1)
    resolution_services.resolution_transition(resolution=resolution, actor=agent, name="complete_manually",
                                   note="银行转账")

    payout = next(e for e in audit_trail(ticket=ticket) if e["subject"] == "payout")
    assert (payout["actor"], payout["actor_id"]) == (agent, agent.pk)
    assert payout["actor_name"] == str(agent)
    assert "150.00" in payout["action"]


@pytest.mark.parametrize(("language", "name"), [("zh-hans", "刘建国"), ("en", "建国 刘")])
def test_the_trail_names_people_in_the_order_of_the_language(refunded_ticket, supervisor,
                                                              language, name):
    from django.utils import translation

    supervisor.first_name, supervisor.last_name = "建国", "刘"
    supervisor.save(update_fields=["first_name", "last_name"])

    with translation.override(language):
        approve = next(e for e in audit_trail(ticket=refunded_ticket)
                       if e["reason"].startswith("transition:approve"))

    assert approve["actor_name"] == name
    assert {c["field"]: c["new"] for c in approve["changes"]}["approved_by"] == name
