"""Phone intake warns when the caller's order already has open tickets and offers to add the
call to one of them; opening a new ticket anyway is an explicit second choice."""

import pytest
from django.urls import reverse

from tests.factories import CustomerFactory, OrderItemFactory, TeamFactory, TicketFactory
from tickets.models import Ticket, TicketState

# Written against English messages, as the other console tests.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]


@pytest.fixture
def order(db):
    return OrderItemFactory(order__customer=CustomerFactory()).order


def intake(client, order, **extra):
    return client.post(reverse("console-new-ticket"), {
        "customer": order.customer.pk, "ticket_type": "logistics", "subject": "快递还没到",
        "order_number": order.number, **extra})


@pytest.mark.parametrize(("state", "warns"), [
    (TicketState.NEW, True),
    (TicketState.IN_PROGRESS, True),
    (TicketState.PENDING_CUSTOMER, True),
    (TicketState.RESOLVED, False),
    (TicketState.CLOSED, False),
    (TicketState.CANCELLED, False),
])
def test_intake_warns_only_of_open_tickets_on_the_order(client, agent, make_ticket, order,
                                                         state, warns):
    earlier = make_ticket(state, customer=order.customer, order=order)
    client.force_login(agent)

    response = intake(client, order)

    page = response.content.decode()
    assert Ticket.objects.count() == (1 if warns else 2)
    assert ('data-testid="open-on-order"' in page) is warns
    if warns:
        link = reverse("console-ticket", args=[earlier.number]) + "#reply-form"
        assert f'href="{link}"' in page
        assert f"Add the call to {earlier.number}" in page


def test_the_warning_keeps_what_was_typed_and_opening_anyway_opens_one(client, agent,
                                                                       make_ticket, order):
    make_ticket(customer=order.customer, order=order)
    client.force_login(agent)

    warned = intake(client, order)
    opened = intake(client, order, open_new="1")

    assert warned.status_code == 200
    assert 'value="快递还没到"' in warned.content.decode()
    new = Ticket.objects.latest("id")
    assert opened["Location"] == reverse("console-ticket", args=[new.number])
    assert Ticket.objects.count() == 2


def test_another_teams_open_ticket_is_counted_but_not_named(client, agent, order):
    hidden = TicketFactory(customer=order.customer, order=order, team=TeamFactory(),
                           state=TicketState.NEW)
    client.force_login(agent)

    page = intake(client, order).content.decode()

    assert "1 more open ticket on this order is with another team." in page
    assert hidden.number not in page
    assert Ticket.objects.count() == 1


def test_a_call_without_an_order_is_not_held_up(client, agent, make_ticket, team):
    customer = CustomerFactory()
    make_ticket(customer=customer)
    client.force_login(agent)

    response = client.post(reverse("console-new-ticket"), {
        "customer": customer.pk, "ticket_type": "consultation", "subject": "会员积分怎么用"})

    assert response.status_code == 302
    assert Ticket.objects.count() == 2


def test_the_warning_costs_a_fixed_number_of_queries(client, agent, make_ticket, order,
                                                     django_assert_max_num_queries):
    for _ in range(8):  # more than the warning names
        make_ticket(customer=order.customer, order=order)
    client.force_login(agent)
    intake(client, order)  # the first request of a session loads what later ones reuse

    with django_assert_max_num_queries(11):  # 10, and the top bar's approvals count
        page = intake(client, order).content.decode()

    assert page.count("data-open-ticket=") == 5
