"""The facts of a ticket read from the database: one compiled query, right for every ticket."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from policies.models import PolicyRule
from policies.services.rulebook import ruleset_version
from resolutions.models import Payout, Resolution, ResolutionState
from resolutions.services import decision_facts as facts
from tests.factories import OrderItemFactory, TicketFactory
from tickets.models import Attachment

pytestmark = pytest.mark.django_db


def ticket_with_item():
    item = OrderItemFactory()
    return TicketFactory(customer=item.order.customer, order=item.order, order_item=item), item


def refund(ticket, item, amount: str, *, state="paid", completed_days_ago=None):
    resolution = Resolution.objects.create(
        ticket=ticket, order_item=item, kind="refund_only",
        state=ResolutionState.COMPLETED if completed_days_ago is not None else "proposed",
        completed_at=(timezone.now() - timedelta(days=completed_days_ago)
                      if completed_days_ago is not None else None))
    Payout.objects.create(resolution=resolution, order=item.order, order_item=item,
                          kind="refund", state=state, amount=Decimal(amount), payer="merchant",
                          idempotency_key=f"k-{resolution.pk}",
                          paid_at=timezone.now() if state == "paid" else None)


def evidence(ticket, kind):
    Attachment.objects.create(ticket=ticket, evidence_kind=kind, file="evidence/x.png",
                              label="x.png", content_type="image/png", size=1, sha256="0" * 64)


def test_each_ticket_gets_its_own_numbers_from_the_compiled_query():
    first, first_item = ticket_with_item()
    second, second_item = ticket_with_item()
    refund(first, first_item, "10.50", completed_days_ago=3)
    refund(first, first_item, "4.25", state="reserved", completed_days_ago=200)  # too old
    refund(first, first_item, "99.00", state="released")  # given back: not refunded
    refund(second, second_item, "1.00", completed_days_ago=1)
    refund(second, second_item, "2.00", completed_days_ago=2)
    TicketFactory(customer=first.customer, complaint_level="l2")  # an earlier dispute
    TicketFactory(customer=first.customer, complaint_level="l3",
                  created_at=timezone.now() - timedelta(days=120))  # outside 90 days
    evidence(first, "photo")
    evidence(second, "video")
    evidence(second, "inspection_report")
    PolicyRule.objects.create(name="x", kind="exchange", priority=1, verdict="deny")

    one, one_version = facts.facts_and_ruleset_version(first, first_item)
    two, two_version = facts.facts_and_ruleset_version(second, second_item)

    assert (one.refunds_90d, one.disputes_90d) == (1, 1)
    assert (two.refunds_90d, two.disputes_90d) == (2, 0)
    assert one.already_refunded == Decimal("14.75")
    assert two.already_refunded == Decimal("3.00")
    assert one.evidence == {"photo"}
    assert two.evidence == {"video", "inspection_report"}
    assert one_version == two_version == ruleset_version() > 0
    # The same answers as the ORM reads they stand for.
    assert one.already_refunded == facts.already_refunded(first_item)
    assert (one.refunds_90d, one.disputes_90d) == facts.customer_history(
        first.customer_id, at=timezone.now(), exclude_ticket=first.pk)


def test_the_ticket_itself_is_not_counted_as_an_earlier_dispute():
    ticket, item = ticket_with_item()
    ticket.complaint_level = "l3"
    ticket.save()

    decided, _version = facts.facts_and_ruleset_version(ticket, item)

    assert decided.disputes_90d == 0
    assert decided.evidence == frozenset()
    assert decided.already_refunded == Decimal("0.00")


def test_the_query_is_compiled_once(django_assert_num_queries):
    ticket, item = ticket_with_item()
    facts.facts_and_ruleset_version(ticket, item)
    facts._compiled_stored_numbers.cache_clear()

    facts.facts_and_ruleset_version(ticket, item)
    facts.facts_and_ruleset_version(ticket, item)

    assert facts._compiled_stored_numbers.cache_info().misses == 1
    assert facts._compiled_stored_numbers.cache_info().hits == 1
