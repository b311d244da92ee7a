"""The workspace's policy panel and resolution cards in plain language (issue 17, point 2).

Agents read each option's name and plain explanation; supervisors, QA and risk/legal also
read the rule's number, version and source. When nothing can be proposed the panel says why
and what evidence or fact would change it; it never vanishes from an open ticket with an
order.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from resolutions import services as resolution_services
from resolutions.models import Payout, Resolution, ResolutionState
from tests.factories import OrderFactory, OrderItemFactory
from tickets.models import Attachment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]

DEVELOPER_TEXT = ("Decided by rule", "Source:", "DOMAIN.md", "rule set")


@pytest.fixture
def fridge_ticket(make_ticket):
    """A ¥4,599 fridge with a quality fault, signed for two hours ago, no evidence yet."""
    now = timezone.now()
    order = OrderFactory(paid_amount=Decimal("4599.00"), paid_at=now - timedelta(days=3),
                         shipped_at=now - timedelta(days=2), signed_at=now - timedelta(hours=2))
    item = OrderItemFactory(order=order, title="双开门冰箱", category="large_appliance",
                            unit_price=Decimal("4599.00"), paid_amount=Decimal("4599.00"))
    return make_ticket(customer=order.customer, order=order, order_item=item,
                       request_reason="quality_defect", item_condition="intact")


def add_photo(ticket):
    Attachment.objects.create(ticket=ticket, evidence_kind="photo", file="evidence/x.png",
                              label="x.png", content_type="image/png", size=1, sha256="0" * 64)


def workspace(client, user, ticket) -> str:
    client.force_login(user)
    response = client.get(reverse("console-ticket", args=[ticket.number]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_fridge_without_evidence_shows_the_panel_with_why_and_what_would_change_it(
        client, agent, fridge_ticket):
    page = workspace(client, agent, fridge_ticket)

    assert 'data-testid="policy-options"' in page
    assert 'data-testid="no-option"' in page
    assert "No rule offers an option for this request as it stands." in page
    assert "Evidence has none of Photo, Video" in page
    assert ("If the customer provides one of: Photo, Video: Return and refund (Quality defect "
            "within 72 h)") in page
    assert "data-propose" not in page


def test_with_a_photo_the_agent_reads_plain_words_and_no_rule_numbers_or_sources(
        client, agent, fridge_ticket):
    add_photo(fridge_ticket)

    page = workspace(client, agent, fridge_ticket)

    assert 'data-propose="return_refund"' in page
    assert 'data-testid="no-option"' not in page
    assert "Quality defect within 72 h" in page
    assert "You reported a quality problem within 72 hours of delivery" in page
    for text in DEVELOPER_TEXT:
        assert text not in page


@pytest.mark.parametrize("reviewer", ["supervisor", "qa_inspector", "risk_officer"])
def test_reviewers_also_read_the_rule_number_and_source(client, request, fridge_ticket,
                                                        reviewer):
    add_photo(fridge_ticket)

    page = workspace(client, request.getfixturevalue(reviewer), fridge_ticket)

    assert "You reported a quality problem within 72 hours of delivery" in page
    assert "Decided by rule" in page
    assert "Source: DOMAIN.md" in page


def test_who_may_not_work_the_ticket_reads_the_panel_without_propose_buttons(
        client, qa_inspector, fridge_ticket):
    add_photo(fridge_ticket)

    page = workspace(client, qa_inspector, fridge_ticket)

    assert 'data-kind="return_refund"' in page
    assert "data-propose" not in page


def test_resolution_cards_speak_to_each_reader(client, agent, supervisor, fridge_ticket):
    add_photo(fridge_ticket)
    resolution_services.resolution_propose(ticket=fridge_ticket, actor=agent,
                                           kind="return_refund")

    for_agent = workspace(client, agent, fridge_ticket)
    for_supervisor = workspace(client, supervisor, fridge_ticket)

    card = 'class="card mb-2 resolution-card"'
    assert for_agent.count(card) == 1
    agent_card = for_agent[for_agent.index(card):]
    assert "You reported a quality problem within 72 hours" in agent_card
    assert "Source:" not in agent_card
    assert "Decided by rule" not in agent_card
    supervisor_card = for_supervisor[for_supervisor.index(card):]
    assert "Source: DOMAIN.md" in supervisor_card


def test_an_explanation_stored_before_audiences_still_renders(client, agent, supervisor,
                                                              fridge_ticket):
    add_photo(fridge_ticket)
    resolution = resolution_services.resolution_propose(ticket=fridge_ticket, actor=agent,
                                                        kind="return_refund")
    Resolution.objects.filter(pk=resolution.pk).update(explanation=[
        {"key": 'Decided by rule %(rule_id)s "%(rule)s" (version %(version)s)',
         "params": {"rule_id": 25, "rule": "Late quality claim without inspection report",
                    "version": 25}},
        {"key": "Source: %(source)s", "params": {"source": "DOMAIN.md [000]"}},
        {"key": "Needs approval by %(role)s", "params": {"role": "senior_agent"}},
    ])

    for_agent = workspace(client, agent, fridge_ticket)
    for_supervisor = workspace(client, supervisor, fridge_ticket)

    assert "Needs approval by Senior agent" in for_agent
    assert "DOMAIN.md [000]" not in for_agent
    assert "Decided by rule 25" in for_supervisor
    assert "DOMAIN.md [000]" in for_supervisor


def test_an_order_without_items_still_shows_the_panel(client, agent, make_ticket):
    order = OrderFactory()
    ticket = make_ticket(customer=order.customer, order=order, request_reason="quality_defect")

    page = workspace(client, agent, ticket)

    assert 'data-testid="policy-options"' in page
    assert "The order has no items, so there is nothing to decide on yet." in page


def test_after_a_full_refund_no_return_of_zero_is_offered(client, agent, fridge_ticket):
    add_photo(fridge_ticket)
    item = fridge_ticket.order_item
    paid = Resolution.objects.create(ticket=fridge_ticket, order_item=item, kind="refund_only",
                                     state=ResolutionState.COMPLETED,
                                     completed_at=timezone.now())
    Payout.objects.create(resolution=paid, order=item.order, order_item=item, kind="refund",
                          state="paid", amount=Decimal("4599.00"), payer="merchant",
                          idempotency_key=f"k-{paid.pk}", paid_at=timezone.now())

    page = workspace(client, agent, fridge_ticket)

    assert 'data-propose="return_refund"' not in page
    assert 'data-propose="partial_refund"' not in page
    assert 'data-propose="exchange"' in page
    assert 'data-propose="repair"' in page


@pytest.mark.parametrize(("reader", "sees_details"), [("agent", False), ("supervisor", True)])
def test_the_api_explains_to_each_reader_as_the_panel_does(client, request, agent,
                                                           fridge_ticket, reader, sees_details):
    add_photo(fridge_ticket)
    resolution_services.resolution_propose(ticket=fridge_ticket, actor=agent,
                                           kind="return_refund")
    client.force_login(request.getfixturevalue(reader))

    options = client.get(f"/api/v1/tickets/{fridge_ticket.number}/options/").json()
    resolutions = client.get(f"/api/v1/tickets/{fridge_ticket.number}/resolutions/").json()

    texts = [option["explanation"] for option in options["options"]]
    texts += [resolution["explanation"] for resolution in resolutions]
    assert any("You reported a quality problem within 72 hours" in text for text in texts)
    for text in texts:
        assert ("Decided by rule" in text) is sees_details
        assert ("Source: " in text) is sees_details
