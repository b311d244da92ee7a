from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from shop.models import CustomerTier, mask_phone
from tests.factories import CustomerFactory, OrderFactory, OrderItemFactory


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("13812345678", "138****5678"), ("02188886666", "021****6666"), ("12345", "*****")],
)
def test_phone_numbers_are_masked_in_the_middle(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.django_db
def test_customer_keeps_the_full_phone_but_shows_it_masked():
    customer = CustomerFactory(phone="13912345678", tier=CustomerTier.SVIP)

    assert customer.phone == "13912345678"
    assert customer.masked_phone == "139****5678"
    assert customer.is_vip


@pytest.mark.django_db
def test_money_is_stored_as_exact_decimals():
    item = OrderItemFactory(paid_amount=Decimal("0.10") + Decimal("0.20"))
    item.refresh_from_db()

    assert item.paid_amount == Decimal("0.30")


@pytest.mark.django_db
def test_item_flags_are_read_as_a_set():
    item = OrderItemFactory(custom_made=True, perishable=True)

    assert item.flags == {"custom_made", "perishable"}


@pytest.mark.django_db
def test_an_order_delivered_after_its_promise_is_late():
    order = OrderFactory()
    order.promised_delivery_at = order.signed_at - timedelta(hours=1)
    assert order.is_late

    order.promised_delivery_at = order.signed_at + timedelta(hours=1)
    assert not order.is_late
    assert timezone.is_aware(order.signed_at)


@pytest.mark.django_db
def test_a_periodical_is_flagged_for_the_policy_rules():
    """CRPL art. 25 (4): delivered newspapers and periodicals have no no-reason return."""
    item = OrderItemFactory(periodical=True)

    assert "periodical" in item.flags


@pytest.mark.django_db
@pytest.mark.parametrize(("item_paid", "valid"), [
    pytest.param("199.00", True, id="the whole order"),
    pytest.param("500.00", False, id="more than the order"),
])
def test_an_item_cannot_be_paid_more_than_its_order(item_paid, valid):
    from django.core.exceptions import ValidationError

    order = OrderFactory(paid_amount=Decimal("199.00"))
    item = OrderItemFactory.build(order=order, paid_amount=Decimal(item_paid))

    if valid:
        item.full_clean()
    else:
        with pytest.raises(ValidationError) as raised:
            item.full_clean()
        assert "paid_amount" in raised.value.message_dict
