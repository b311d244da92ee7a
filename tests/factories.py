"""factory_boy factories for the console's models."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from shop.models import Customer, CustomerTier, Order, OrderItem, OrderStatus, ProductCategory
from sla.models import CustomerUpdateClock
from tickets.models import Channel, Message, MessageKind, Team, Ticket

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "测试"
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save(update_fields=["password"])


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"team{n}")
    name = factory.LazyAttribute(lambda o: f"团队 {o.code}")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    external_id = factory.Sequence(lambda n: f"C{n:06d}")
    name = factory.Sequence(lambda n: f"顾客{n}")
    phone = factory.Sequence(lambda n: f"138{n:08d}")
    tier = CustomerTier.NORMAL


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    number = factory.Sequence(lambda n: f"TB2026{n:08d}")
    customer = factory.SubFactory(CustomerFactory)
    status = OrderStatus.SIGNED
    paid_amount = Decimal("199.00")
    payment_channel = "alipay"
    paid_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=5))
    shipped_at = factory.LazyAttribute(lambda o: o.paid_at + timedelta(hours=12))
    signed_at = factory.LazyAttribute(lambda o: o.paid_at + timedelta(days=2))
    delivered_at = factory.LazyAttribute(lambda o: o.signed_at)
    carrier = "中通快递"
    tracking_number = factory.Sequence(lambda n: f"ZT{n:010d}")


class OrderItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderItem

    order = factory.SubFactory(OrderFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    title = "无线蓝牙耳机"
    category = ProductCategory.ELECTRONICS
    unit_price = Decimal("199.00")
    quantity = 1
    paid_amount = Decimal("199.00")
    warranty_months = 12


class TicketFactory(factory.django.DjangoModelFactory):
    """A ticket; pass state=... to start elsewhere than `new` (allowed in the constructor)."""

    class Meta:
        model = Ticket
        skip_postgeneration_save = True

    number = factory.Sequence(lambda n: f"CS20260101-{n:06d}")
    channel = Channel.ONLINE_CHAT
    subject = "耳机左耳没有声音"
    description = "收到的耳机左耳没有声音，已经重新配对过。"
    customer = factory.SubFactory(CustomerFactory)
    created_at = factory.LazyFunction(timezone.now)
    first_response_due_at = factory.LazyAttribute(lambda o: o.created_at + timedelta(hours=2))
    resolution_due_at = factory.LazyAttribute(lambda o: o.created_at + timedelta(hours=48))

    @factory.post_generation
    def next_update_due_at(ticket, create, extracted, **kwargs):
        """Plan the customer's next update: 8 hours after creation unless given."""
        if create:
            due_at = extracted if extracted is not None else ticket.created_at + timedelta(hours=8)
            ticket.update_clock = CustomerUpdateClock.objects.create(ticket=ticket, due_at=due_at)


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    ticket = factory.SubFactory(TicketFactory)
    kind = MessageKind.INBOUND
    channel = Channel.ONLINE_CHAT
    body = "请问什么时候能处理？"
