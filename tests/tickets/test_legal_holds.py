"""Legal holds freeze a ticket's order data and resolutions."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from rest_framework.test import APIClient

from core.services.exceptions import Conflict
from policies.models import PolicyRule
from resolutions import services as resolution_services
from resolutions.models import Resolution, ResolutionState
from tests.factories import OrderItemFactory
from tickets import selectors
from tickets.models import LegalHold, TicketState
from tickets.services import legal_holds

pytestmark = pytest.mark.django_db


@pytest.fixture
def coupon_rule(db):
    PolicyRule.objects.all().delete()
    return PolicyRule.objects.create(
        name="Sorry coupon", kind="compensation_coupon", priority=70, reasons=["quality_defect"],
        verdict="allow", coupon_amount=Decimal("10"), source="test")


@pytest.fixture
def ticket(make_ticket):
    item = OrderItemFactory(paid_amount=Decimal("299.00"), unit_price=Decimal("299.00"),
                            order__paid_amount=Decimal("299.00"))
    return make_ticket(TicketState.IN_PROGRESS, customer=item.order.customer, order=item.order,
                       order_item=item, request_reason="quality_defect", item_condition="opened")


@pytest.fixture
def held(ticket, risk_officer):
    legal_holds.legal_hold_place(ticket=ticket, actor=risk_officer, reason="消费者协会介入，冻结订单数据")
    return ticket


# --- legal hold ---------------------------------------------------------------------------
def test_placing_a_hold_records_who_and_why(ticket, risk_officer):
    hold = legal_holds.legal_hold_place(ticket=ticket, actor=risk_officer, reason="律师函")

    assert hold.is_active
    entry = hold.history.latest()
    assert (entry.history_user, entry.history_change_reason) == (risk_officer,
                                                                  "legal_hold:place")
    assert selectors.is_held(ticket=ticket)


@pytest.mark.parametrize("role", ["agent", "senior_agent", "qa"])
def test_only_risk_legal_and_supervisors_place_holds(ticket, personas, role):
    with pytest.raises(PermissionDenied):
        legal_holds.legal_hold_place(ticket=ticket, actor=personas[role], reason="x")
    assert not LegalHold.objects.exists()


def test_a_hold_needs_a_reason_and_is_placed_once(ticket, supervisor):
    with pytest.raises(ValidationError):
        legal_holds.legal_hold_place(ticket=ticket, actor=supervisor, reason="  ")
    legal_holds.legal_hold_place(ticket=ticket, actor=supervisor, reason="监管问询")
    with pytest.raises(Conflict):
        legal_holds.legal_hold_place(ticket=ticket, actor=supervisor, reason="again")
    assert LegalHold.objects.count() == 1


def test_a_held_ticket_gets_no_new_resolution(held, agent, coupon_rule):
    with pytest.raises(Conflict) as refused:
        resolution_services.resolution_propose(ticket=held, actor=agent, kind="compensation_coupon")

    assert refused.value.code == "legal_hold"
    assert "legal hold" in refused.value.message
    assert not Resolution.objects.exists()


def test_an_existing_resolution_is_frozen_while_held(ticket, agent, risk_officer, coupon_rule):
    resolution = resolution_services.resolution_propose(ticket=ticket, actor=agent, kind="compensation_coupon")
    legal_holds.legal_hold_place(ticket=ticket, actor=risk_officer, reason="律师函")

    with pytest.raises(Conflict):
        resolution_services.resolution_cancel(resolution=resolution, actor=agent, reason="客户撤回")
    with pytest.raises(Conflict):
        resolution_services.resolution_accept(resolution=resolution, actor=agent)

    assert Resolution.objects.get(pk=resolution.pk).state == ResolutionState.PROPOSED


def test_the_order_and_its_items_are_frozen_for_every_writer(held):
    order = type(held.order).objects.get(pk=held.order_id)
    order.paid_amount = Decimal("1.00")
    item = held.order_item
    item.paid_amount = Decimal("1.00")

    with pytest.raises(Conflict):
        order.save()
    with pytest.raises(Conflict):
        item.save()
    spare = OrderItemFactory(order=order)
    with pytest.raises(Conflict), transaction.atomic():
        type(spare).objects.get(pk=spare.pk).delete()

    order.refresh_from_db()
    assert order.paid_amount == Decimal("299.00")


def test_another_ticket_about_the_same_order_is_frozen_too(held, make_ticket, agent, coupon_rule):
    sibling = make_ticket(TicketState.IN_PROGRESS, customer=held.customer, order=held.order,
                          order_item=held.order_item, request_reason="quality_defect")

    with pytest.raises(Conflict):
        resolution_services.resolution_propose(ticket=sibling, actor=agent, kind="compensation_coupon")


def test_releasing_the_hold_unfreezes(held, risk_officer, agent, coupon_rule):
    hold = LegalHold.objects.get(ticket=held)

    legal_holds.legal_hold_release(hold=hold, actor=risk_officer, reason="和解结案")

    resolution = resolution_services.resolution_propose(ticket=held, actor=agent, kind="compensation_coupon")
    assert resolution.pk
    with pytest.raises(Conflict):
        legal_holds.legal_hold_release(hold=hold, actor=risk_officer, reason="again")


def test_the_admin_shows_a_held_order_read_only_and_refuses_edits(client, held, settings):
    from django.contrib.auth import get_user_model

    boss = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(boss)
    url = reverse("admin:shop_order_change", args=[held.order.pk])

    page = client.get(url).content.decode()
    posted = client.post(url, {"number": "CHANGED"})

    assert 'name="number"' not in page  # no input: read-only
    assert posted.status_code == 403
    held.order.refresh_from_db()
    assert held.order.number != "CHANGED"


def test_everyone_who_reads_the_ticket_sees_the_hold(held, personas):
    ticket_admin = reverse("admin:tickets_ticket_changelist")
    seen_by = set()
    for role, user in personas.items():
        client = APIClient()
        client.force_authenticate(user)
        response = client.get(reverse("ticket-detail", args=[held.number]))
        if response.status_code == 200:  # the complaint specialist is not in the team
            assert response.data["legal_hold"] is True
            seen_by.add(role)
    listed = APIClient()
    listed.force_authenticate(personas["agent"])
    (row,) = listed.get(reverse("ticket-list")).data["results"]
    assert row["legal_hold"] is True
    assert seen_by == {"agent", "senior_agent", "supervisor", "qa", "risk_legal"}

    client = APIClient()
    client.force_login(personas["qa"])
    assert "icon-yes" in client.get(ticket_admin).content.decode()


def test_a_ticket_without_a_hold_says_so(ticket, agent):
    client = APIClient()
    client.force_authenticate(agent)

    assert client.get(reverse("ticket-detail", args=[ticket.number])).data["legal_hold"] is False


def test_a_payment_made_before_a_hold_is_still_recorded(ticket, agent, risk_officer,
                                                        coupon_rule, monkeypatch):
    from resolutions.models import Payout
    from resolutions.services import payments

    resolution = resolution_services.resolution_propose(ticket=ticket, actor=agent, kind="compensation_coupon")
    resolution_services.resolution_accept(resolution=resolution, actor=agent)
    assert Resolution.objects.get(pk=resolution.pk).state == ResolutionState.APPROVED
    real = payments.get_gateway()

    class HeldWhilePaying:
        def pay(self, request):
            legal_holds.legal_hold_place(ticket=ticket, actor=risk_officer, reason="律师函")
            return real.pay(request)

    monkeypatch.setattr("resolutions.services.resolutions.get_gateway", HeldWhilePaying)
    resolution_services.resolution_execute(resolution_id=resolution.pk)

    assert Resolution.objects.get(pk=resolution.pk).state == ResolutionState.COMPLETED
    assert Payout.objects.filter(resolution=resolution).exists()
    with pytest.raises(Conflict):  # and nothing else changes while held
        resolution_services.resolution_propose(ticket=ticket, actor=agent, kind="compensation_coupon")
