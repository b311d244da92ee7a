"""Choices shared by tickets, their requests and the API."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TicketState(models.TextChoices):
    NEW = "new", _("New")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    PENDING_CUSTOMER = "pending_customer", _("Waiting on customer")
    PENDING_INTERNAL = "pending_internal", _("Waiting on collaboration")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATES = (
    TicketState.NEW,
    TicketState.ASSIGNED,
    TicketState.IN_PROGRESS,
    TicketState.PENDING_CUSTOMER,
    TicketState.PENDING_INTERNAL,
)
TERMINAL_STATES = (TicketState.CLOSED, TicketState.CANCELLED)


class Channel(models.TextChoices):
    ONLINE_CHAT = "online_chat", _("Online chat")
    PHONE = "phone", _("Phone hotline")
    APP = "app", _("App after-sales module")
    MINI_PROGRAM = "mini_program", _("Mini program")
    EMAIL = "email", _("E-mail")
    WEB_FORM = "web_form", _("Web form")


class TicketType(models.TextChoices):
    """The type template a ticket is created from (售后申请, 技术故障, ...)."""

    AFTER_SALES = "after_sales", _("After-sales request")
    COMPLAINT = "complaint", _("Complaint")
    LOGISTICS = "logistics", _("Logistics enquiry")
    PAYMENT = "payment", _("Payment or refund problem")
    TECHNICAL_FAULT = "technical_fault", _("Technical fault")
    CONSULTATION = "consultation", _("Consultation")


class Category(models.TextChoices):
    ORDER_NOT_RECEIVED = "order_not_received", _("Order not received")
    ORDER_LATE = "order_late", _("Late delivery")
    WRONG_OR_MISSING_ITEM = "wrong_or_missing_item", _("Wrong or missing item")
    RETURN_EXCHANGE = "return_exchange", _("Return or exchange")
    ACCOUNT_LOGIN = "account_login", _("Account and login")
    COUPON = "coupon", _("Coupon cannot be used")
    PAYMENT_FAILED = "payment_failed", _("Payment failed")
    DOUBLE_CHARGE = "double_charge", _("Charged twice")
    REFUND_NOT_ARRIVED = "refund_not_arrived", _("Refund not arrived")
    QUALITY_DAMAGE = "quality_damage", _("Damaged goods")
    QUALITY_MALFUNCTION = "quality_malfunction", _("Malfunction")
    COUNTERFEIT = "counterfeit", _("Counterfeit goods")
    SAFETY_HAZARD = "safety_hazard", _("Safety hazard")
    LOGISTICS_EXCEPTION = "logistics_exception", _("Logistics exception (stalled, lost)")
    SERVICE_ATTITUDE = "service_attitude", _("Service attitude")
    OTHER = "other", _("Other")


class Priority(models.IntegerChoices):
    """P0 is the most urgent; the numbers sort the way queues are worked."""

    P0 = 0, _("P0 · critical")
    P1 = 1, _("P1 · high")
    P2 = 2, _("P2 · normal")
    P3 = 3, _("P3 · low")


class ComplaintLevel(models.TextChoices):
    NONE = "none", _("Not a complaint")
    L1 = "l1", _("L1 · basic")
    L2 = "l2", _("L2 · dispute")
    L3 = "l3", _("L3 · legal or brand risk")
    SPECIAL = "special", _("Special · VIP or industry customer")


# How far up the ladder a level stands; escalation only ever moves up it.
COMPLAINT_LEVEL_RANK: dict[str, int] = {
    ComplaintLevel.NONE: 0,
    ComplaintLevel.L1: 1,
    ComplaintLevel.L2: 2,
    ComplaintLevel.L3: 3,
    ComplaintLevel.SPECIAL: 3,
}


class RequestReason(models.TextChoices):
    NO_REASON = "no_reason", _("No reason (7-day return)")
    QUALITY_DEFECT = "quality_defect", _("Quality defect")
    NOT_AS_DESCRIBED = "not_as_described", _("Not as described")
    LOGISTICS_DAMAGE = "logistics_damage", _("Damaged in transit")
    WRONG_ITEM = "wrong_item", _("Wrong item sent")
    MISSING_ITEM = "missing_item", _("Item missing")
    LATE_SHIPMENT = "late_shipment", _("Shipped late")
    COUNTERFEIT = "counterfeit", _("Counterfeit")
    DELIVERY_TIMEOUT = "delivery_timeout", _("Delivery promise missed")
    PARCEL_LOST = "parcel_lost", _("Parcel lost or not delivered")
    REFUSED_AT_DOOR = "refused_at_door", _("Refused at the door")
    SAFETY_HAZARD = "safety_hazard", _("Safety hazard")
    OUT_OF_STOCK = "out_of_stock", _("Out of stock")
    REFUND_DELAYED = "refund_delayed", _("Refund delayed by the payment channel")
    FALSE_ADVERTISING = "false_advertising", _("False advertising")
    FOOD_SAFETY = "food_safety", _("Food not meeting safety standards")
    OTHER = "other", _("Other")


class ItemCondition(models.TextChoices):
    INTACT = "intact", _("Intact, unopened")
    OPENED = "opened", _("Opened, unused")
    USED = "used", _("Used")
    DAMAGED = "damaged", _("Damaged")


class RequestedResolution(models.TextChoices):
    REFUND_ONLY = "refund_only", _("Refund only")
    RETURN_REFUND = "return_refund", _("Return and refund")
    EXCHANGE = "exchange", _("Exchange")
    REPAIR = "repair", _("Repair")
    REISSUE = "reissue", _("Reissue")
    PARTIAL_REFUND = "partial_refund", _("Partial refund")
    COMPENSATION = "compensation", _("Compensation")


class CancelReason(models.TextChoices):
    DUPLICATE = "duplicate", _("Duplicate")
    SPAM = "spam", _("Spam")
    WITHDRAWN = "withdrawn", _("Withdrawn by the customer")


class Collaborator(models.TextChoices):
    """Departments a ticket can wait on (协作工单)."""

    LOGISTICS = "logistics", _("Logistics")
    WAREHOUSE = "warehouse", _("Warehouse")
    SUPPLIER = "supplier", _("Supplier")
    FINANCE = "finance", _("Finance")
    TECH = "tech", _("Technical team")
