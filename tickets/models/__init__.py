from .shop import (
    Customer,
    CustomerTier,
    ItemFlag,
    Order,
    OrderItem,
    OrderStatus,
    PaymentChannel,
    ProductCategory,
    mask_phone,
)
from .team import Team

__all__ = [
    "Customer",
    "CustomerTier",
    "ItemFlag",
    "Order",
    "OrderItem",
    "OrderStatus",
    "PaymentChannel",
    "ProductCategory",
    "Team",
    "mask_phone",
]
