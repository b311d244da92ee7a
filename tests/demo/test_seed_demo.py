from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.test import RequestFactory

from demo.services.people import USERS, demo_password
from shop.models import Customer, Order, OrderItem
from tickets.models import Message, Team, Ticket, TicketState

MODELS = [get_user_model(), Team, Customer, Order, OrderItem, Ticket, Message]


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.mark.django_db
def test_seed_demo_twice_creates_nothing_twice():
    call_command("seed_demo", stdout=StringIO())
    first = _counts()

    call_command("seed_demo", stdout=StringIO())

    assert _counts() == first
    assert all(count > 0 for count in first.values())


@pytest.mark.django_db
def test_seed_demo_prints_a_working_login_for_every_role():
    out = StringIO()
    call_command("seed_demo", stdout=out)

    for username, role, *_ in USERS:
        assert username in out.getvalue()
        # As the log-in page does: the lockout check (django-axes) needs the request.
        request = RequestFactory().post("/accounts/login/")
        user = authenticate(request, username=username, password=demo_password(username))
        assert user is not None
        assert user.role_names == [role]


@pytest.mark.django_db
def test_demo_orders_have_consistent_money():
    call_command("seed_demo", stdout=StringIO())

    for order in Order.objects.prefetch_related("items"):
        assert order.paid_amount == sum(item.paid_amount for item in order.items.all())


@pytest.mark.django_db
def test_demo_tickets_cover_every_state_with_an_audit_trail():
    call_command("seed_demo", stdout=StringIO())

    assert set(Ticket.objects.values_list("state", flat=True)) == set(TicketState.values)
    for ticket in Ticket.objects.all():
        reasons = list(ticket.history.values_list("history_change_reason", flat=True))
        assert reasons[-1].startswith("create:")  # history is newest first
        assert all(reasons)
    merged = Ticket.objects.get(merged_into__isnull=False)
    assert merged.state == TicketState.CANCELLED


@pytest.mark.django_db
def test_demo_resolutions_show_a_paid_return_and_one_waiting_for_approval():
    from resolutions.models import Payout, Resolution

    call_command("seed_demo", stdout=StringIO())

    states = dict(Resolution.objects.values_list("ticket__subject", "state"))
    assert states["申请七天无理由退货"] == "completed"
    assert states["收到的耳机左耳没有声音"] == "accepted"
    assert Payout.objects.get().amount == Order.objects.get(number="TB202611100003").items.first().paid_amount
