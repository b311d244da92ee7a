"""A ticket's policy facts: its customer's resolution history and the item's payouts, read here.

The policies build the facts from plain values (`policies.services.facts.build_facts`) and may not
read resolutions or payouts; this module reads those numbers (with the ticket's evidence and
the rule set's version, in one query) and hands them to the builder. It belongs with the
resolutions and the payout ledger.
"""

import functools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connections, router
from django.db.models import (
    DecimalField,
    Exists,
    Field,
    Func,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from policies import engine
from policies.services import rulebook
from policies.services.facts import facts_from_ticket
from resolutions.models import Resolution, ResolutionKind, ResolutionState
from resolutions.services import ledger
from shop.models import OrderItem
from tickets.models import Attachment, ComplaintLevel, EvidenceKind, Ticket

HISTORY_WINDOW = timedelta(days=90)
REFUND_KINDS = (ResolutionKind.REFUND_ONLY, ResolutionKind.RETURN_REFUND,
                ResolutionKind.PARTIAL_REFUND)


def _completed_refunds(customer_id: int, *, since: datetime) -> QuerySet[Resolution]:
    refunds: QuerySet[Resolution] = Resolution.objects.filter(
        ticket__customer_id=customer_id, kind__in=REFUND_KINDS, state=ResolutionState.COMPLETED,
        completed_at__gte=since,
    )
    return refunds


def _disputes(customer_id: int, *, since: datetime, exclude_ticket: int | None
              ) -> QuerySet[Ticket]:
    disputes: QuerySet[Ticket] = Ticket.objects.filter(
        customer_id=customer_id, created_at__gte=since,
        complaint_level__in=[ComplaintLevel.L2, ComplaintLevel.L3],
    ).exclude(pk=exclude_ticket)
    return disputes


def customer_history(customer_id: int, *, at: datetime,
                     exclude_ticket: int | None = None) -> tuple[int, int]:
    """Return (refunds, disputes) of the customer in the last 90 days."""
    since = at - HISTORY_WINDOW
    return (_completed_refunds(customer_id, since=since).count(),
            _disputes(customer_id, since=since, exclude_ticket=exclude_ticket).count())


def already_refunded(item: OrderItem) -> Decimal:
    """Return the item's refunds paid or reserved (being paid right now), settled by hand too."""
    return ledger.refund_position(paid=item.paid_amount, item=item).held


def _scalar(queryset: QuerySet[Any], function: str, column: str,
            output_field: "Field[Any, Any]", empty: object = 0) -> Coalesce:
    """Return a subquery of one aggregate over the queryset (one row, no GROUP BY)."""
    aggregate = Func(column, function=function, output_field=output_field)
    return Coalesce(Subquery(queryset.order_by().values(value=aggregate)[:1]),
                    Value(empty), output_field=output_field)


# Stand-ins for the values of one ticket, put into the query when it is compiled and swapped
# for the real values when it runs. Ids are never negative and no history is this old.
_CUSTOMER, _TICKET, _ITEM = -900_001, -900_002, -900_003
_SINCE = datetime(1901, 1, 1, tzinfo=UTC)


def _stored_numbers_query(*, customer_id: int, ticket_id: int, item_id: int,
                          since: datetime) -> QuerySet[Any]:
    """The query of `_stored_numbers`: five reads as scalar subqueries of one SELECT."""
    money = DecimalField(max_digits=12, decimal_places=2)
    numbers = {
        "refunds": _scalar(_completed_refunds(customer_id, since=since),
                           "COUNT", "id", IntegerField()),
        "disputes": _scalar(_disputes(customer_id, since=since, exclude_ticket=ticket_id),
                            "COUNT", "id", IntegerField()),
        # The ledger's own rows of the item, so the facts and the ledger agree on "refunded".
        "refunded": _scalar(ledger.item_refunds_held(item_id), "SUM", "amount", money,
                            Decimal("0.00")),
        "version": _scalar(rulebook.rule_history(), "MAX", "history_id", IntegerField()),
        "limits_version": _scalar(rulebook.limits_history(), "MAX", "history_id",
                                  IntegerField()),
    }
    # One EXISTS per evidence kind: the kinds are few and fixed, and this stays portable SQL.
    evidence = {f"evidence_{kind}": Exists(Attachment.objects.filter(
        ticket_id=OuterRef("pk"), evidence_kind=kind)) for kind in EvidenceKind.values}
    query: QuerySet[Any] = Ticket.objects.filter(pk=ticket_id).values(**numbers, **evidence)
    return query


@functools.cache
def _compiled_stored_numbers(alias: str) -> tuple[str, tuple[Any, ...], list[str]]:
    """Return the SQL, parameters (with stand-ins) and column names, compiled once.

    Building this ORM query took about as long as the rest of the decision; its shape never
    changes, only the ids and the date, so it is compiled once per process and database.
    """
    query = _stored_numbers_query(customer_id=_CUSTOMER, ticket_id=_TICKET, item_id=_ITEM,
                                  since=_SINCE)
    sql, params = query.query.get_compiler(alias).as_sql()
    return sql, tuple(params), list(query.query.values_select) + list(query.query.annotation_select)


def _stored_numbers(ticket: Ticket, item: OrderItem, *, at: datetime) -> dict[str, Any]:
    """Read what the facts need from the database, and the rule set's version, in one query.

    Five reads (refunds and disputes of 90 days, evidence kinds, what the item has been
    refunded, the rule set's version) are each a scalar subquery of one SELECT: the
    workspace pays a round trip per query, and these are small indexed lookups.
    """
    alias = router.db_for_read(Ticket)
    connection = connections[alias]
    sql, template, columns = _compiled_stored_numbers(alias)
    since = at - HISTORY_WINDOW
    real: dict[object, Any] = {  # stand-in -> value, as the database adapter takes them
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
        "limits_version": int(row["limits_version"]),
        "evidence": frozenset(kind for kind in EvidenceKind.values
                              if row[f"evidence_{kind}"]),
    }


def facts_and_versions(ticket: Ticket, item: OrderItem, *,
                       at: datetime | None = None) -> tuple[engine.Facts, int, int]:
    """Return the facts to decide the ticket's request about `item` on, the rule set's version
    and the approval limits' version, read in one query (so the decision uses the rules and
    limits current with the facts)."""
    at = at or timezone.now()
    stored = _stored_numbers(ticket, item, at=at)
    facts = facts_from_ticket(
        ticket, item, at=at, already_refunded=stored["refunded"], evidence=stored["evidence"],
        refunds_90d=stored["refunds"], disputes_90d=stored["disputes"],
    )
    return facts, stored["version"], stored["limits_version"]


def facts_and_ruleset_version(ticket: Ticket, item: OrderItem, *,
                              at: datetime | None = None) -> tuple[engine.Facts, int]:
    """Return the facts to decide the ticket's request about `item` on, and the rule set's
    version read in the same query (so the decision uses the rules current with the facts)."""
    facts, version, _limits_version = facts_and_versions(ticket, item, at=at)
    return facts, version


def facts_for_ticket(ticket: Ticket, item: OrderItem, *, at: datetime | None = None) -> engine.Facts:
    """Return the facts to decide the ticket's request about `item` on."""
    return facts_and_ruleset_version(ticket, item, at=at)[0]
