"""Build the engine's Facts from a ticket, its order and the customer's history."""

import calendar
import functools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db import connections, router
from django.db.models import (
    DecimalField,
    Exists,
    Func,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from policies import engine, rulebook
from shop.models import OrderItem, ProductCategory
from tickets.models import (
    PAYOUT_ACTIVE_STATES,
    Attachment,
    Collaborator,
    ComplaintLevel,
    EvidenceKind,
    Payout,
    PayoutKind,
    Resolution,
    ResolutionKind,
    ResolutionState,
    Ticket,
    TicketState,
)

HISTORY_WINDOW = timedelta(days=90)
REFUND_KINDS = (ResolutionKind.REFUND_ONLY, ResolutionKind.RETURN_REFUND,
                ResolutionKind.PARTIAL_REFUND)
# Goods covered by the statutory repair/replace/return duties (三包): appliances, electronics.
SANBAO_CATEGORIES = (ProductCategory.ELECTRONICS, ProductCategory.HOME_APPLIANCE)


def add_months(day: date, months: int) -> date:
    """Return the same day `months` later, clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def warranty_days(item: OrderItem, signed_at: datetime | None) -> int:
    if not item.warranty_months:
        return 0
    start = timezone.localdate(signed_at) if signed_at else timezone.localdate()
    return (add_months(start, item.warranty_months) - start).days


def item_flags(item: OrderItem, *, freight_insured: bool) -> frozenset[str]:
    """Return the item's flags as the rules name them, from the shop data and the request."""
    flags = set(item.flags)
    if item.no_return_confirmed:
        flags.add("no_return_confirmed")
    if freight_insured:
        flags.add("freight_insured")
    if item.category in SANBAO_CATEGORIES and item.warranty_months:
        flags.add("sanbao")
    return frozenset(flags)


def _completed_refunds(customer_id: int, *, since: datetime):
    return Resolution.objects.filter(
        ticket__customer_id=customer_id, kind__in=REFUND_KINDS, state=ResolutionState.COMPLETED,
        completed_at__gte=since,
    )


def _disputes(customer_id: int, *, since: datetime, exclude_ticket: int | None):
    return Ticket.objects.filter(
        customer_id=customer_id, created_at__gte=since,
        complaint_level__in=[ComplaintLevel.L2, ComplaintLevel.L3],
    ).exclude(pk=exclude_ticket)


def _refund_payouts(item_id: int):
    """The item's refunds paid or reserved (being paid right now), settled by hand too."""
    return Payout.objects.filter(
        order_item_id=item_id, kind=PayoutKind.REFUND, state__in=PAYOUT_ACTIVE_STATES)


def customer_history(customer_id: int, *, at: datetime, exclude_ticket: int | None = None):
    """Return (refunds, disputes) of the customer in the last 90 days."""
    since = at - HISTORY_WINDOW
    return (_completed_refunds(customer_id, since=since).count(),
            _disputes(customer_id, since=since, exclude_ticket=exclude_ticket).count())


def already_refunded(item: OrderItem) -> Decimal:
    """Return the item's refunds paid or reserved (being paid right now), settled by hand too."""
    return _refund_payouts(item.pk).aggregate(total=Sum("amount"))["total"] or Decimal("0.00")


def _scalar(queryset, function: str, column: str, output_field, empty=0):
    """Return a subquery of one aggregate over the queryset (one row, no GROUP BY)."""
    aggregate = Func(column, function=function, output_field=output_field)
    return Coalesce(Subquery(queryset.order_by().values(value=aggregate)[:1]),
                    Value(empty), output_field=output_field)


# Stand-ins for the values of one ticket, put into the query when it is compiled and swapped
# for the real values when it runs. Ids are never negative and no history is this old.
_CUSTOMER, _TICKET, _ITEM = -900_001, -900_002, -900_003
_SINCE = datetime(1901, 1, 1, tzinfo=UTC)


def _stored_numbers_query(*, customer_id, ticket_id, item_id, since) -> QuerySet:
    """The query of `_stored_numbers`: five reads as scalar subqueries of one SELECT."""
    money = DecimalField(max_digits=12, decimal_places=2)
    numbers = {
        "refunds": _scalar(_completed_refunds(customer_id, since=since),
                           "COUNT", "id", IntegerField()),
        "disputes": _scalar(_disputes(customer_id, since=since, exclude_ticket=ticket_id),
                            "COUNT", "id", IntegerField()),
        "refunded": _scalar(_refund_payouts(item_id), "SUM", "amount", money, Decimal("0.00")),
        "version": _scalar(rulebook.rule_history(), "MAX", "history_id", IntegerField()),
    }
    # One EXISTS per evidence kind: the kinds are few and fixed, and this stays portable SQL.
    evidence = {f"evidence_{kind}": Exists(Attachment.objects.filter(
        ticket_id=OuterRef("pk"), evidence_kind=kind)) for kind in EvidenceKind.values}
    return Ticket.objects.filter(pk=ticket_id).values(**numbers, **evidence)


@functools.cache
def _compiled_stored_numbers(alias: str) -> tuple[str, tuple, list[str]]:
    """Return the SQL, parameters (with stand-ins) and column names, compiled once.

    Building this ORM query took about as long as the rest of the decision; its shape never
    changes, only the ids and the date, so it is compiled once per process and database.
    """
    query = _stored_numbers_query(customer_id=_CUSTOMER, ticket_id=_TICKET, item_id=_ITEM,
                                  since=_SINCE)
    sql, params = query.query.get_compiler(alias).as_sql()
    return sql, tuple(params), list(query.query.values_select) + list(query.query.annotation_select)


def _stored_numbers(ticket: Ticket, item: OrderItem, *, at: datetime) -> dict:
    """Read what the facts need from the database, and the rule set's version, in one query.

    Five reads (refunds and disputes of 90 days, evidence kinds, what the item has been
    refunded, the rule set's version) are each a scalar subquery of one SELECT: the
    workspace pays a round trip per query, and these are small indexed lookups.
    """
    alias = router.db_for_read(Ticket)
    connection = connections[alias]
    sql, template, columns = _compiled_stored_numbers(alias)
    since = at - HISTORY_WINDOW
    real = {
        _CUSTOMER: ticket.customer_id, _TICKET: ticket.pk, _ITEM: item.pk,
        connection.ops.adapt_datetimefield_value(_SINCE):
            connection.ops.adapt_datetimefield_value(since),
    }
    params = [real.get(value, value) if isinstance(value, int | str | datetime) else value
              for value in template]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = dict(zip(columns, cursor.fetchone(), strict=True))
    return {
        "refunds": int(row["refunds"]),
        "disputes": int(row["disputes"]),
        # SQLite sums decimals as floats: back to cents, as the field would read them.
        "refunded": Decimal(str(row["refunded"])).quantize(Decimal("0.01")),
        "version": int(row["version"]),
        "evidence": frozenset(kind for kind in EvidenceKind.values
                              if row[f"evidence_{kind}"]),
    }


def merchant_silent_hours(ticket: Ticket, *, at: datetime) -> Decimal:
    """Return how long the ticket has waited on the supplier (merchant) without an answer."""
    if (ticket.state != TicketState.PENDING_INTERNAL or ticket.waiting_on != Collaborator.SUPPLIER
            or ticket.waiting_since is None):
        return Decimal("0")
    return Decimal(str(round((at - ticket.waiting_since).total_seconds() / 3600, 2)))


def item_for_ticket(ticket: Ticket) -> OrderItem | None:
    """Return the item the request is about: the ticket's own, or the order's first."""
    if ticket.order_item_id:
        return ticket.order_item
    if ticket.order_id is None:
        return None
    return ticket.order.items.order_by("id").first()


def facts_and_ruleset_version(ticket: Ticket, item: OrderItem, *,
                              at: datetime | None = None) -> tuple[engine.Facts, int]:
    """Return the facts to decide the ticket's request about `item` on, and the rule set's
    version read in the same query (so the decision uses the rules current with the facts)."""
    at = at or timezone.now()
    order = item.order
    stored = _stored_numbers(ticket, item, at=at)
    facts = engine.Facts(
        at=at,
        order_paid_amount=order.paid_amount,
        paid_at=order.paid_at,
        shipped_at=order.shipped_at,
        signed_at=order.signed_at,
        promised_delivery_at=order.promised_delivery_at,
        customer_tier=ticket.customer.tier,
        item_category=item.category,
        item_flags=item_flags(item, freight_insured=order.freight_insured),
        item_paid_amount=item.paid_amount,
        item_quantity=item.quantity,
        already_refunded=stored["refunded"],
        warranty_days=warranty_days(item, order.signed_at),
        reason=ticket.request_reason,
        item_condition=ticket.item_condition,
        evidence=stored["evidence"],
        refunds_90d=stored["refunds"],
        disputes_90d=stored["disputes"],
        merchant_silent_hours=merchant_silent_hours(ticket, at=at),
        time_zone=timezone.get_current_timezone_name(),
    )
    return facts, stored["version"]


def facts_for_ticket(ticket: Ticket, item: OrderItem, *, at: datetime | None = None) -> engine.Facts:
    """Return the facts to decide the ticket's request about `item` on."""
    return facts_and_ruleset_version(ticket, item, at=at)[0]
