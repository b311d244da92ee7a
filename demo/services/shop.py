"""Demo customers and orders with the goods and situations the source material discusses."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from shop.models import Customer, CustomerTier, Order, OrderItem, OrderStatus, ProductCategory

CUSTOMERS = [
    # external id, name, phone, tier
    ("KS10001", "林晓雨", "13812345678", CustomerTier.NORMAL),
    ("KS10002", "周明", "13923456789", CustomerTier.VIP),
    ("TB20001", "吴佳怡", "15034567890", CustomerTier.NORMAL),
    ("TB20002", "郑浩然", "15145678901", CustomerTier.SVIP),
    ("TM30001", "孙丽娟", "18656789012", CustomerTier.NORMAL),
    ("TM30002", "马骏", "18767890123", CustomerTier.NORMAL),
    ("JD40001", "黄思琪", "17778901234", CustomerTier.VIP),
    ("JD40002", "何志强", "13389012345", CustomerTier.NORMAL),
    ("KS10003", "高雅", "13590123456", CustomerTier.NORMAL),
    ("TB20003", "罗文博", "15201234567", CustomerTier.NORMAL),
    ("TM30003", "谢婷婷", "18812340987", CustomerTier.VIP),
    ("JD40003", "唐磊", "17623459876", CustomerTier.NORMAL),
]


@dataclass
class Item:
    sku: str
    title: str
    category: str
    unit_price: str
    quantity: int = 1
    warranty_months: int = 0
    flags: tuple[str, ...] = ()


@dataclass
class DemoOrder:
    number: str
    customer: str
    status: str
    channel: str
    paid_days_ago: float
    items: list[Item]
    shipped_after_hours: float | None = None
    signed_after_hours: float | None = None
    promised_hours: float | None = None
    carrier: str = ""
    tracking: str = ""
    extra: dict = field(default_factory=dict)


ORDERS = [
    DemoOrder("KS202611150001", "KS10001", OrderStatus.SIGNED, "wechat_pay", 6,
              [Item("EL-HP-0031", "无线降噪蓝牙耳机 Pro", ProductCategory.ELECTRONICS, "399.00",
                    warranty_months=12)],
              shipped_after_hours=10, signed_after_hours=40, promised_hours=72,
              carrier="中通快递", tracking="ZT7712034455"),
    DemoOrder("KS202611180002", "KS10002", OrderStatus.SIGNED, "alipay", 4,
              [Item("HA-AC-1200", "变频冷暖空调 1.5匹 挂机", ProductCategory.HOME_APPLIANCE,
                    "2899.00", warranty_months=72)],
              shipped_after_hours=20, signed_after_hours=70, promised_hours=96,
              carrier="京东物流", tracking="JDV004512338871"),
    DemoOrder("TB202611100003", "TB20001", OrderStatus.SIGNED, "alipay", 5,
              [Item("AP-DR-2231", "法式碎花连衣裙 M码", ProductCategory.APPAREL, "259.00"),
               Item("AP-BL-0098", "真丝衬衫 白色 S码", ProductCategory.APPAREL, "329.00")],
              shipped_after_hours=24, signed_after_hours=60, promised_hours=72,
              carrier="圆通速递", tracking="YT6620019834"),
    DemoOrder("TB202611190004", "TB20002", OrderStatus.SHIPPED, "credit", 3,
              [Item("EL-PH-8801", "5G 智能手机 256GB 星空黑", ProductCategory.ELECTRONICS,
                    "5999.00", warranty_months=12)],
              shipped_after_hours=6, promised_hours=48,
              carrier="顺丰速运", tracking="SF1409923381720"),
    DemoOrder("TM202611200005", "TM30001", OrderStatus.SIGNED, "wechat_pay", 2,
              [Item("FF-CH-0420", "智利车厘子 JJ级 2.5kg 礼盒", ProductCategory.FOOD_FRESH,
                    "268.00", flags=("perishable",))],
              shipped_after_hours=4, signed_after_hours=28, promised_hours=24,
              carrier="顺丰速运", tracking="SF1409923390011"),
    DemoOrder("TM202611080006", "TM30002", OrderStatus.SIGNED, "alipay", 14,
              [Item("CM-RG-0007", "定制刻字纯银对戒", ProductCategory.JEWELRY, "888.00",
                    flags=("custom_made",))],
              shipped_after_hours=96, signed_after_hours=140, promised_hours=168,
              carrier="顺丰速运", tracking="SF1409923300452"),
    DemoOrder("JD202611170007", "JD40001", OrderStatus.SIGNED, "unionpay", 5,
              [Item("BT-SK-0315", "精华液 50ml 修护套装", ProductCategory.BEAUTY, "699.00",
                    quantity=2, flags=("hygiene_sealed",))],
              shipped_after_hours=12, signed_after_hours=30, promised_hours=24,
              carrier="京东物流", tracking="JDV004512340015"),
    DemoOrder("JD202611210008", "JD40002", OrderStatus.PAID, "wechat_pay", 1,
              [Item("HO-SF-5520", "布艺三人位沙发 浅灰", ProductCategory.HOME, "3299.00",
                    warranty_months=36)],
              promised_hours=120),
    DemoOrder("KS202611120009", "KS10003", OrderStatus.SIGNED, "alipay", 10,
              [Item("MB-MP-0911", "婴儿纸尿裤 L码 4包装", ProductCategory.MOTHER_BABY, "356.00",
                    flags=("hygiene_sealed",))],
              shipped_after_hours=8, signed_after_hours=30, promised_hours=48,
              carrier="中通快递", tracking="ZT7712040098"),
    DemoOrder("TB202611160010", "TB20003", OrderStatus.SIGNED, "balance", 6,
              [Item("DG-VC-0100", "视频会员年卡（电子兑换码）", ProductCategory.DIGITAL_GOODS,
                    "198.00", flags=("digital",))],
              shipped_after_hours=0.1, signed_after_hours=0.1),
    DemoOrder("TM202611140011", "TM30003", OrderStatus.DELIVERED, "alipay", 8,
              [Item("EL-LT-1402", "14英寸轻薄笔记本电脑 16G+1T", ProductCategory.ELECTRONICS,
                    "6499.00", warranty_months=24)],
              shipped_after_hours=30, signed_after_hours=None, promised_hours=48,
              carrier="京东物流", tracking="JDV004512329900",
              extra={"delivered_after_hours": 90}),
    DemoOrder("JD202611190012", "JD40003", OrderStatus.SHIPPED, "card", 3,
              [Item("FP-NT-0230", "每日坚果 30袋装", ProductCategory.FOOD_PACKAGED, "129.90",
                    quantity=2)],
              shipped_after_hours=20, promised_hours=48,
              carrier="韵达快递", tracking="YD4312098871"),
    DemoOrder("KS202611200013", "KS10001", OrderStatus.SIGNED, "wechat_pay", 2,
              [Item("HA-RF-0450", "十字对开门冰箱 450L", ProductCategory.HOME_APPLIANCE,
                    "4599.00", warranty_months=36)],
              shipped_after_hours=12, signed_after_hours=40, promised_hours=72,
              carrier="日日顺物流", tracking="RRS20261120334"),
    DemoOrder("TB202611210014", "TB20002", OrderStatus.PENDING_PAYMENT, "", 0.2,
              [Item("BK-NV-0012", "《活着》精装纪念版", ProductCategory.BOOKS, "45.00")]),
]


@transaction.atomic
def load_shop() -> dict[str, int]:
    """Create the demo customers and orders if missing; return how many were created."""
    created = {"customers": 0, "orders": 0}
    customers = {}
    for external_id, name, phone, tier in CUSTOMERS:
        customer, was_created = Customer.objects.get_or_create(
            external_id=external_id, defaults={"name": name, "phone": phone, "tier": tier}
        )
        customers[external_id] = customer
        created["customers"] += was_created

    now = timezone.now()
    for spec in ORDERS:
        if Order.objects.filter(number=spec.number).exists():
            continue
        paid_at: datetime | None = now - timedelta(days=spec.paid_days_ago)
        if spec.status == OrderStatus.PENDING_PAYMENT:
            paid_at = None

        def after(hours: float | None, base: datetime | None = paid_at) -> datetime | None:
            return base + timedelta(hours=hours) if hours is not None and base else None

        delivered_after = spec.extra.get("delivered_after_hours", spec.signed_after_hours)
        order = Order.objects.create(
            number=spec.number,
            customer=customers[spec.customer],
            status=spec.status,
            payment_channel=spec.channel,
            paid_amount=sum(
                (Decimal(item.unit_price) * item.quantity for item in spec.items), Decimal("0.00")
            ) if paid_at else Decimal("0.00"),
            paid_at=paid_at,
            shipped_at=after(spec.shipped_after_hours),
            delivered_at=after(delivered_after),
            signed_at=after(spec.signed_after_hours),
            promised_delivery_at=after(spec.promised_hours),
            carrier=spec.carrier,
            tracking_number=spec.tracking,
        )
        for item in spec.items:
            amount = Decimal(item.unit_price) * item.quantity
            OrderItem.objects.create(
                order=order,
                sku=item.sku,
                title=item.title,
                category=item.category,
                unit_price=Decimal(item.unit_price),
                quantity=item.quantity,
                paid_amount=amount if paid_at else Decimal("0.00"),
                warranty_months=item.warranty_months,
                **dict.fromkeys(item.flags, True),
            )
        created["orders"] += 1
    return created
