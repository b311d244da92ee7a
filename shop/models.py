"""The console's mirror of the shop's data: customers, orders and order items.

The shop is the system of record for these; the console keeps a copy so tickets can link
to them and the policy engine can read the facts (amounts, sign-off time, item flags).
"""

from decimal import Decimal
from typing import TypedDict

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class MoneyOptions(TypedDict):
    """The precision every money column shares; a TypedDict so `**MONEY` type-checks."""

    max_digits: int
    decimal_places: int


MONEY: MoneyOptions = {"max_digits": 12, "decimal_places": 2}


class CustomerTier(models.TextChoices):
    NORMAL = "normal", _("Normal")
    VIP = "vip", _("VIP")
    SVIP = "svip", _("SVIP")


def mask_phone(phone: str) -> str:
    """Return the phone number with its middle digits hidden, e.g. 138****5678."""
    digits = phone.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


# Customer fields that hold contact details: shown masked wherever a value is displayed
# (pages, exports, API, history diffs) unless revealed through supervision.services.privacy.
# A phone number a caller reported at intake (Ticket.reported_phone) is contact data too.
CONTACT_FIELDS = frozenset({"phone", "reported_phone"})


def mask_contact(field: str, value):
    """Return value masked when field holds contact details, else unchanged."""
    if field in CONTACT_FIELDS and value:
        return mask_phone(str(value))
    return value


class Customer(models.Model):
    external_id = models.CharField(_("external id"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=100)
    # Stored in full so agents can call back; shown masked everywhere (see masked_phone) and
    # only revealed, with a logged reason, by supervision.services.privacy.
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    tier = models.CharField(
        _("tier"), max_length=8, choices=CustomerTier.choices, default=CustomerTier.NORMAL
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name"]
        indexes = [models.Index(fields=["phone"], name="customer_phone_idx")]
        permissions = [
            # Seeing the full number is logged, with a reason (supervision.services.privacy).
            ("reveal_customer_contact", _("Can reveal a customer's full contact details")),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.external_id})"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone) if self.phone else ""

    @property
    def is_vip(self) -> bool:
        return self.tier in (CustomerTier.VIP, CustomerTier.SVIP)


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", _("Pending payment")
    PAID = "paid", _("Paid, not shipped")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    SIGNED = "signed", _("Signed for")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class PaymentChannel(models.TextChoices):
    ALIPAY = "alipay", _("Alipay")
    WECHAT_PAY = "wechat_pay", _("WeChat Pay")
    UNIONPAY = "unionpay", _("UnionPay")
    CARD = "card", _("Bank card")
    BALANCE = "balance", _("Platform balance")
    CREDIT = "credit", _("Buy now, pay later")


class Order(models.Model):
    number = models.CharField(_("order number"), max_length=40, unique=True)
    customer = models.ForeignKey(
        Customer, models.PROTECT, related_name="orders", verbose_name=_("customer")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.PAID
    )
    paid_amount = models.DecimalField(
        _("paid amount"), **MONEY, default=Decimal("0.00"), validators=[MinValueValidator(0)]
    )
    payment_channel = models.CharField(
        _("payment channel"), max_length=16, choices=PaymentChannel.choices, blank=True
    )
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    signed_at = models.DateTimeField(_("signed for at"), null=True, blank=True)
    promised_delivery_at = models.DateTimeField(_("promised delivery by"), null=True, blank=True)
    carrier = models.CharField(_("carrier"), max_length=40, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=64, blank=True)
    freight_insured = models.BooleanField(
        _("return-freight insurance"), default=False, db_default=False,
        help_text=_("The order carries return-freight insurance (运费险)."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-paid_at", "-id"]
        indexes = [models.Index(fields=["customer", "-paid_at"], name="order_customer_paid_idx")]

    def __str__(self) -> str:
        return self.number

    @property
    def is_late(self) -> bool:
        """Return True if delivery came after (or has not come by) the promised time."""
        if not self.promised_delivery_at:
            return False
        delivered = self.delivered_at or self.signed_at or timezone.now()
        return delivered > self.promised_delivery_at


class ProductCategory(models.TextChoices):
    ELECTRONICS = "electronics", _("Electronics")
    HOME_APPLIANCE = "home_appliance", _("Home appliances")
    APPAREL = "apparel", _("Apparel and shoes")
    BEAUTY = "beauty", _("Beauty and personal care")
    FOOD_FRESH = "food_fresh", _("Fresh food")
    FOOD_PACKAGED = "food_packaged", _("Packaged food")
    HOME = "home", _("Home and furniture")
    MOTHER_BABY = "mother_baby", _("Mother and baby")
    BOOKS = "books", _("Books and media")
    DIGITAL_GOODS = "digital_goods", _("Digital goods")
    JEWELRY = "jewelry", _("Jewellery and watches")
    OTHER = "other", _("Other")


class ItemFlag(models.TextChoices):
    """Properties of an item that change what the customer may ask for."""

    CUSTOM_MADE = "custom_made", _("Custom-made")
    PERISHABLE = "perishable", _("Fresh / perishable")
    DIGITAL = "digital", _("Digital, delivered online")
    HYGIENE_SEALED = "hygiene_sealed", _("Hygiene-sealed")
    PERIODICAL = "periodical", _("Newspapers and periodicals")
    NO_RETURN_CONFIRMED = "no_return_confirmed", _("Customer confirmed: not returnable")


class OrderItem(models.Model):
    order = models.ForeignKey(Order, models.CASCADE, related_name="items", verbose_name=_("order"))
    sku = models.CharField(_("SKU"), max_length=64)
    title = models.CharField(_("title"), max_length=200)
    category = models.CharField(
        _("category"), max_length=20, choices=ProductCategory.choices, default=ProductCategory.OTHER
    )
    custom_made = models.BooleanField(_("custom-made"), default=False)
    perishable = models.BooleanField(_("fresh / perishable"), default=False)
    digital = models.BooleanField(_("digital"), default=False)
    hygiene_sealed = models.BooleanField(_("hygiene-sealed"), default=False)
    # Delivered newspapers and periodicals have no no-reason return (CRPL art. 25 (4)).
    periodical = models.BooleanField(_("newspaper or periodical"), default=False, db_default=False)
    # Set by the shop when the customer ticked "not returnable" at purchase; the console never
    # lets anyone set it afterwards (it would take away a statutory right).
    no_return_confirmed = models.BooleanField(
        _("customer confirmed: not returnable"), default=False, db_default=False)
    unit_price = models.DecimalField(
        _("unit price"), **MONEY, default=Decimal("0.00"), validators=[MinValueValidator(0)]
    )
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    paid_amount = models.DecimalField(
        _("paid amount"), **MONEY, default=Decimal("0.00"), validators=[MinValueValidator(0)]
    )
    warranty_months = models.PositiveSmallIntegerField(_("warranty (months)"), default=0)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("order item")
        verbose_name_plural = _("order items")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.title} × {self.quantity}"

    def clean(self) -> None:
        super().clean()
        order = self.order if self.order_id else None
        if order is not None and self.paid_amount is not None \
                and order.paid_amount is not None and self.paid_amount > order.paid_amount:
            raise ValidationError({"paid_amount": _(
                "An item cannot have been paid more than its whole order (%(order)s)."
            ) % {"order": order.paid_amount}})

    @property
    def flags(self) -> frozenset[str]:
        """Return the set of ItemFlag values that apply to this item."""
        return frozenset(flag.value for flag in ItemFlag if getattr(self, flag.value))
