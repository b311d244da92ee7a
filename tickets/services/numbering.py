"""Human-readable ticket numbers: CS20261122-000123, unique under concurrent creation."""

from datetime import date, datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from tickets.models import TicketNumberSequence

PREFIX = "CS"


def format_ticket_number(day: date, sequence: int) -> str:
    return f"{PREFIX}{day:%Y%m%d}-{sequence:06d}"


def next_ticket_number(*, at: datetime) -> str:
    """Return the next number for the local day of `at`.

    The UPDATE locks the day's counter row until the caller's transaction ends, so two
    concurrent creations can never read the same value; the first ticket of a day creates
    the row, and a concurrent first creation falls back to the UPDATE.
    """
    day = timezone.localdate(at)
    last = _increment(day)
    if last is None:
        try:
            with transaction.atomic():
                TicketNumberSequence.objects.create(day=day, last=1)
            last = 1
        except IntegrityError:
            last = _increment(day)
            assert last is not None  # the concurrent creation has made the day's row
    return format_ticket_number(day, last)


def _increment(day: date) -> int | None:
    """Move the day's counter on and return its new value (None: no row for the day yet).

    UPDATE ... RETURNING: one statement where an update and a read would be two.
    """
    with connection.cursor() as cursor:
        cursor.execute("UPDATE tickets_ticketnumbersequence SET last = last + 1 WHERE day = %s "
                       "RETURNING last", [day])
        row = cursor.fetchone()
    return row[0] if row else None


def reserve_ticket_numbers(*, day: date, count: int) -> int:
    """Reserve `count` numbers for a day at once (bulk loads); return the first one."""
    with transaction.atomic():
        sequence, _created = TicketNumberSequence.objects.select_for_update().get_or_create(day=day)
        first = sequence.last + 1
        sequence.last += count
        sequence.save(update_fields=["last"])
    return first
