"""Build the engine's Facts: one builder for a ticket, the simulator form and the evaluate API.

`build_facts` takes plain values and derives everything the rules read beyond them (the
item's flags, warranty days, how long the merchant has been silent, the clock and time
zone), so a case typed into the simulator and the same case read from a ticket get the same
facts. Reading a ticket's resolution and payout history is not done here: that history lives
above the policies (`resolutions/services/decision_facts.py` reads it and calls this builder).
"""

import calendar
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from policies import engine
from shop.models import OrderItem, ProductCategory
from sla.services.calendar import is_working_day
from tickets.models import Collaborator, Ticket, TicketState

# Goods covered by the statutory repair/replace/return duties (三包): appliances, electronics.
SANBAO_CATEGORIES = (ProductCategory.ELECTRONICS, ProductCategory.HOME_APPLIANCE)
# The flags the builder adds to the shop's own (the rest are tickets.models.ItemFlag).
NO_RETURN_CONFIRMED = "no_return_confirmed"
FREIGHT_INSURED = "freight_insured"
SANBAO = "sanbao"

ZERO = Decimal("0.00")


def add_months(day: date, months: int) -> date:
    """Return the same day `months` later, clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def warranty_days_from_months(months: int, *, signed_at: datetime | None, at: datetime, zone: ZoneInfo) -> int:
    """Return the warranty as days, counted from the local day of sign-off (or of `at`)."""
    if not months:
        return 0
    start = (signed_at or at).astimezone(zone).date()
    return (add_months(start, months) - start).days


def derive_item_flags(flags: Iterable[str], *, category: str, warranty_months: int | None,
               no_return_confirmed: bool, freight_insured: bool) -> frozenset[str]:
    """Return the item's flags as the rules name them, from the shop data and the request."""
    derived = set(flags)
    if no_return_confirmed:
        derived.add(NO_RETURN_CONFIRMED)
    if freight_insured:
        derived.add(FREIGHT_INSURED)
    if category in SANBAO_CATEGORIES and warranty_months:
        derived.add(SANBAO)
    return frozenset(derived)


def hours_waited(waiting_since: datetime | None, *, at: datetime) -> Decimal:
    """Return the hours since the merchant was asked, to two decimals (0 when not asked)."""
    if waiting_since is None:
        return Decimal("0")
    return Decimal(str(round((at - waiting_since).total_seconds() / 3600, 2)))


def rest_days_before(at: datetime, *, signed_at: datetime | None, zone: ZoneInfo
                     ) -> frozenset[date]:
    """Return the local rest days (weekends, public holidays) between sign-off and `at`.

    Only the last engine.LONGEST_REST_RUN days before `at` can move a period's end to `at`,
    so no more are read; the calendar is the SLA's (chinese-calendar, make-up days counted).
    """
    if signed_at is None or signed_at > at:
        return frozenset()
    today = at.astimezone(zone).date()
    first = max(signed_at.astimezone(zone).date(),
                today - timedelta(days=engine.LONGEST_REST_RUN))
    days = (first + timedelta(days=offset) for offset in range((today - first).days))
    return frozenset(day for day in days if not is_working_day(day))


def build_facts(
    *,
    at: datetime | None = None,
    time_zone: str | None = None,
    order_paid_amount: Decimal,
    paid_at: datetime | None = None,
    shipped_at: datetime | None = None,
    signed_at: datetime | None = None,
    promised_delivery_at: datetime | None = None,
    freight_insured: bool = False,
    customer_tier: str,
    item_category: str,
    item_flags: Iterable[str] = (),
    no_return_confirmed: bool = False,
    item_paid_amount: Decimal,
    item_quantity: int = 1,
    already_refunded: Decimal = ZERO,
    warranty_months: int | None = None,
    warranty_days: int | None = None,
    reason: str,
    item_condition: str = "",
    evidence: Iterable[str] = (),
    refunds_90d: int = 0,
    disputes_90d: int = 0,
    merchant_waiting_since: datetime | None = None,
    merchant_silent_hours: Decimal | None = None,
    carrier_waiting_since: datetime | None = None,
    carrier_silent_hours: Decimal | None = None,
    claims_statutory: bool = False,
    assessed_damage: Decimal | None = None,
) -> engine.Facts:
    """Return the facts of one case, deriving what the rules read from the plain values given.

    The shop's data gives `warranty_months` (turned into days from sign-off, and the 三包
    flag for covered categories) and `merchant_waiting_since`; a person describing a case
    gives `warranty_days` and `merchant_silent_hours` instead.
    """
    at = at or timezone.now()
    time_zone = time_zone or timezone.get_current_timezone_name()
    if warranty_months is not None:
        warranty_days = warranty_days_from_months(warranty_months, signed_at=signed_at, at=at,
                                                  zone=ZoneInfo(time_zone))
    if merchant_silent_hours is None:
        merchant_silent_hours = hours_waited(merchant_waiting_since, at=at)
    if carrier_silent_hours is None:
        carrier_silent_hours = hours_waited(carrier_waiting_since, at=at)
    return engine.Facts(
        at=at,
        order_paid_amount=order_paid_amount,
        paid_at=paid_at,
        shipped_at=shipped_at,
        signed_at=signed_at,
        promised_delivery_at=promised_delivery_at,
        customer_tier=customer_tier,
        item_category=item_category,
        item_flags=derive_item_flags(item_flags, category=item_category,
                                     warranty_months=warranty_months,
                                     no_return_confirmed=no_return_confirmed,
                                     freight_insured=freight_insured),
        item_paid_amount=item_paid_amount,
        item_quantity=item_quantity,
        already_refunded=already_refunded,
        warranty_days=warranty_days,
        reason=reason,
        item_condition=item_condition or "",
        evidence=frozenset(evidence),
        refunds_90d=refunds_90d,
        disputes_90d=disputes_90d,
        merchant_silent_hours=merchant_silent_hours,
        time_zone=time_zone,
        rest_days=rest_days_before(at, signed_at=signed_at, zone=ZoneInfo(time_zone)),
        claims_statutory=claims_statutory,
        carrier_silent_hours=carrier_silent_hours,
        assessed_damage=assessed_damage,
    )


def merchant_waiting_since(ticket: Ticket) -> datetime | None:
    """Return since when the ticket has waited on the supplier (merchant), or None."""
    if ticket.state != TicketState.PENDING_INTERNAL or ticket.waiting_on != Collaborator.SUPPLIER:
        return None
    return ticket.waiting_since


def carrier_waiting_since(ticket: Ticket) -> datetime | None:
    """Return since when the ticket has waited on logistics (the carrier), or None."""
    if ticket.state != TicketState.PENDING_INTERNAL or ticket.waiting_on != Collaborator.LOGISTICS:
        return None
    return ticket.waiting_since


def facts_from_ticket(ticket: Ticket, item: OrderItem, *, at: datetime,
                      already_refunded: Decimal, evidence: Iterable[str],
                      refunds_90d: int, disputes_90d: int) -> engine.Facts:
    """Return the facts of the ticket's request about `item`, given what its history says.

    The history numbers are read by the caller (they come from resolutions and payouts);
    everything else comes from the ticket, its customer, the order and the item.
    """
    order = item.order
    return build_facts(
        at=at,
        order_paid_amount=order.paid_amount,
        paid_at=order.paid_at,
        shipped_at=order.shipped_at,
        signed_at=order.signed_at,
        promised_delivery_at=order.promised_delivery_at,
        freight_insured=order.freight_insured,
        customer_tier=ticket.customer.tier,
        item_category=item.category,
        item_flags=item.flags,
        no_return_confirmed=item.no_return_confirmed,
        item_paid_amount=item.paid_amount,
        item_quantity=item.quantity,
        already_refunded=already_refunded,
        warranty_months=item.warranty_months,
        reason=ticket.request_reason,
        item_condition=ticket.item_condition,
        evidence=evidence,
        refunds_90d=refunds_90d,
        disputes_90d=disputes_90d,
        merchant_waiting_since=merchant_waiting_since(ticket),
        carrier_waiting_since=carrier_waiting_since(ticket),
        claims_statutory=ticket.claims_statutory,
    )


def item_for_ticket(ticket: Ticket) -> OrderItem | None:
    """Return the item the request is about: the ticket's own, or the order's first."""
    if ticket.order_item_id:
        return ticket.order_item
    order = ticket.order  # None without a query when the ticket has no order
    if order is None:
        return None
    return order.items.order_by("id").first()


# --- a ticket's facts, for the simulator ----------------------------------------------------
#
# The simulator can take its case from a ticket, and a ticket's facts need its customer's
# refunds and the item's payouts, which the policies may not read (they sit above them).
# The app that owns that history registers its reader here when Django starts
# (TicketsConfig.ready), so the dependency runs one way and is visible in one place.

TicketFactsReader = Callable[[Ticket, OrderItem], engine.Facts]
_ticket_facts_reader: TicketFactsReader | None = None


def register_ticket_facts_reader(reader: TicketFactsReader) -> None:
    """Set the function that reads a ticket's facts (history included) for the simulator."""
    global _ticket_facts_reader  # one reader per process, set once at start-up
    _ticket_facts_reader = reader


def facts_for_ticket(ticket: Ticket, item: OrderItem) -> engine.Facts:
    """Return the facts to decide the ticket's request about `item` on, history included."""
    if _ticket_facts_reader is None:
        raise RuntimeError("No reader of ticket facts is registered (see TicketsConfig.ready).")
    return _ticket_facts_reader(ticket, item)
