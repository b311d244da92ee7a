"""Intake matches an existing customer and never rewrites it; differences stay on the ticket."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from rest_framework.test import APIClient

from core.models.roles import Integration
from core.services.accounts import integration_account
from shop import services as shop_services
from shop.models import Customer, CustomerTier
from tests.factories import CustomerFactory, OrderFactory
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(db):
    return CustomerFactory(external_id="KS90001", name="林晓雨", phone="13812345678",
                           tier=CustomerTier.NORMAL)


def _intake(user, order_number=None, **customer):
    api = APIClient()
    api.force_authenticate(user)
    body = {"channel": "app", "customer": customer, "subject": "耳机左耳没有声音"}
    if order_number:
        body["order_number"] = order_number
    return api.post(reverse("ticket-list"), body, format="json")


# With one of the customer's orders, intake reads the order and its customer together.
@pytest.mark.parametrize("with_their_order", [False, True])
def test_intake_does_not_overwrite_an_existing_customer(agent, team, customer, with_their_order):
    order = OrderFactory(customer=customer) if with_their_order else None
    response = _intake(agent, external_id="KS90001", name="Mallory", phone="+8613000000000",
                       tier="svip", order_number=order and order.number)

    assert response.status_code == 201, response.data
    assert response.data["order_number"] == (order and order.number)
    assert (response.data["customer"]["name"], response.data["reported_name"]) == (
        "林晓雨", "Mallory")
    assert response.data["reported_phone"] == "+86*******0000"
    customer.refresh_from_db()
    assert (customer.name, customer.phone, customer.tier) == ("林晓雨", "13812345678", "normal")
    assert customer.history.count() == 1
    ticket = Ticket.objects.get()
    assert (ticket.customer, ticket.order) == (customer, order)
    assert (ticket.reported_name, ticket.reported_phone, ticket.reported_tier) == (
        "Mallory", "+8613000000000", "svip")


def test_intake_keeps_nothing_when_the_caller_matches_the_record(agent, team, customer):
    _intake(agent, external_id="KS90001", name="林晓雨", phone="138 1234 5678")

    ticket = Ticket.objects.get()
    assert not ticket.has_reported_contact


def test_intake_still_creates_new_customers(agent, team):
    _intake(agent, external_id="KS90002", name="王女士", phone="13900001111", tier="vip")

    assert Customer.objects.get(external_id="KS90002").tier == "vip"
    assert not Ticket.objects.get().has_reported_contact


def test_the_workspace_shows_what_the_caller_reported(client, agent, team, customer):
    _intake(agent, external_id="KS90001", name="Mallory", phone="+8613000000000", tier="svip")
    ticket = Ticket.objects.get()
    ticket.assignee = agent
    ticket.save()
    client.force_login(agent)

    page = client.get(reverse("console-ticket", args=[ticket.number])).content.decode()

    panel = page[page.index('data-testid="reported-contact"'):]
    panel = panel[:panel.index("</div>")]
    assert "Mallory" in panel
    assert "+86*******0000" in panel
    assert "+8613000000000" not in page
    assert "differs from the customer record" in panel


def test_phone_intake_does_not_overwrite_an_existing_customer(client, agent, team, customer):
    client.force_login(agent)

    client.post(reverse("console-new-ticket"), {
        "external_id": "KS90001", "name": "Mallory", "phone": "13000000000",
        "ticket_type": "consultation", "subject": "会员积分怎么用"})

    customer.refresh_from_db()
    assert (customer.name, customer.phone) == ("林晓雨", "13812345678")
    assert Ticket.objects.get().reported_name == "Mallory"


def test_changing_a_customer_needs_the_permission(agent, customer):
    with pytest.raises(PermissionDenied):
        shop_services.customer_update(customer=customer, actor=agent, reason="客户来电更正",
                                 name="Mallory")
    customer.refresh_from_db()
    assert customer.name == "林晓雨"


@pytest.mark.parametrize("who", ["supervisor", "shop_sync"])
def test_a_customer_change_is_in_the_customers_history(supervisor, customer, who):
    actor = supervisor if who == "supervisor" else integration_account(
        username="shop_sync", integration=Integration.SHOP_SYNC)

    shop_services.customer_update(customer=customer, actor=actor, reason="实名认证更新",
                             phone="13999999999")

    latest = customer.history.latest()
    assert latest.phone == "13999999999"
    assert latest.history_user == actor
    assert latest.history_change_reason == "customer:update — 实名认证更新"


def test_the_shop_sync_changes_a_customer_through_the_api(customer):
    from core.services.accounts import integration_token

    shop_sync = integration_account(username="shop_sync", integration=Integration.SHOP_SYNC)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {integration_token(shop_sync)}")

    response = api.patch(reverse("customer-update", args=["KS90001"]),
                         {"tier": "svip", "reason": "年度消费达标"}, format="json")

    assert response.status_code == 200, response.data
    customer.refresh_from_db()
    assert customer.tier == "svip"
    assert customer.history.latest().history_user == shop_sync


def test_an_agent_cannot_change_a_customer_through_the_api(agent, customer):
    api = APIClient()
    api.force_authenticate(agent)

    response = api.patch(reverse("customer-update", args=["KS90001"]),
                         {"name": "Mallory", "reason": "客户说的"}, format="json")

    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.name == "林晓雨"


def _reported_ticket(agent, customer):
    _intake(agent, external_id="KS90001", name="Mallory", phone="13000000000", tier="svip")
    return Ticket.objects.get()


def test_a_supervisor_takes_the_reported_contact_into_the_record_from_the_workspace(
    client, agent, supervisor, team, customer
):
    ticket = _reported_ticket(agent, customer)
    client.force_login(supervisor)
    page = client.get(reverse("console-ticket", args=[ticket.number])).content.decode()

    client.post(reverse("console-adopt-reported", args=[ticket.number]),
                {"reason": "已核实身份"}, HTTP_HX_REQUEST="true")

    assert 'id="adopt-reported-form"' in page
    customer.refresh_from_db()
    assert (customer.name, customer.phone, customer.tier) == ("Mallory", "13000000000", "svip")
    latest = customer.history.latest()
    assert latest.history_user == supervisor
    assert latest.history_change_reason == f"customer:update — 已核实身份 ({ticket.number})"
    ticket.refresh_from_db()
    assert not ticket.has_reported_contact
    assert ticket.history.latest().history_user == supervisor


def test_an_agent_cannot_take_the_reported_contact_into_the_record(client, agent, team, customer):
    ticket = _reported_ticket(agent, customer)
    ticket.assignee = agent
    ticket.save()
    client.force_login(agent)
    page = client.get(reverse("console-ticket", args=[ticket.number])).content.decode()

    response = client.post(reverse("console-adopt-reported", args=[ticket.number]),
                           {"reason": "客户说的"}, HTTP_HX_REQUEST="true")

    assert 'id="adopt-reported-form"' not in page
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.name == "林晓雨"
    ticket.refresh_from_db()
    assert ticket.reported_name == "Mallory"
