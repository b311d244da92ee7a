"""Keyset (cursor) pagination: every page is an index range read, however deep it is.

A page-number list reads and throws away every row before the page and counts the whole
set; at a million rows both cost seconds. A keyset page instead starts right after the last
row the caller saw, `WHERE (k1, k2, id) > (last k1, last k2, last id)`, which an index on
(k1, k2, id) answers by seeking to that position. The count is capped for the same reason.

The cursor handed out in `next` / `previous` is opaque to callers: URL-safe base64 of a
small JSON object (the ordering, the direction and the boundary row's key values). It is not
signed: it only names a position in a list the caller may already read, so a forged one can
move the position but never widen what the list shows. It is validated strictly, so a
damaged or foreign cursor answers 400, never 500.
"""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import Func, QuerySet, Value
from django.db.models.lookups import GreaterThan, LessThan
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

# A cursor is a few dozen bytes; anything much longer is not one of ours.
MAX_CURSOR_LENGTH = 512
NEXT, PREVIOUS = "n", "p"


class RowValue(Func):
    """A row value, `(a, b, c)`: compared as a whole, column by column, as in a sort.

    PostgreSQL matches `(a, b, c) > (x, y, z)` against an index on (a, b, c) and seeks to
    the position; SQLite (3.15 and later) evaluates the same syntax.
    """

    function = ""
    template = "(%(expressions)s)"
    # The comparison's result is a boolean; the row itself has no single type.
    output_field = models.Field()


@dataclass(frozen=True)
class KeyOrdering:
    """One ordering a list offers: its key columns (the last one unique) and direction.

    Each ordering must be backed by an index on exactly these columns, so that both a page
    and its position seek are an index range read.
    """

    name: str
    columns: tuple[str, ...]
    descending: bool = False

    def order_by(self, *, backwards: bool = False) -> list[str]:
        reverse = self.descending != backwards
        return [f"-{column}" if reverse else column for column in self.columns]

    def after(self, values: list, *, backwards: bool = False):
        """Return the condition "comes after the row with these key values" (or before)."""
        lhs = RowValue(*self.columns)
        rhs = RowValue(*(Value(value) for value in values))
        later = LessThan if self.descending != backwards else GreaterThan
        return later(lhs, rhs)


@dataclass(frozen=True)
class Position:
    """A decoded cursor: where the page starts and which way it reads."""

    ordering: str
    direction: str
    values: list


def encode_cursor(position: Position) -> str:
    payload = json.dumps({"o": position.ordering, "d": position.direction, "k": position.values},
                         separators=(",", ":"), ensure_ascii=True)
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _bad_cursor() -> ValidationError:
    # A cursor names a page; one that is not ours names none: 404, as DRF's cursor pages answer.
    return ValidationError({"cursor": [_("This cursor is not valid. Start again from the first "
                                         "page, or follow the next and previous links as given.")]},
                           code="does_not_exist")


def decode_cursor(text: str) -> dict:
    """Return the cursor's JSON object, or raise a 404 if it is not one of ours."""
    if not text or len(text) > MAX_CURSOR_LENGTH:
        raise _bad_cursor()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        payload = json.loads(raw.decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise _bad_cursor() from None
    if not isinstance(payload, dict) or set(payload) != {"o", "d", "k"}:
        raise _bad_cursor()
    return payload


def key_field_values(model, ordering: KeyOrdering, raw: object) -> list:
    """Check the cursor's key values against the model's fields; return them as Python values."""
    if not isinstance(raw, list) or len(raw) != len(ordering.columns):
        raise _bad_cursor()
    values = []
    for column, value in zip(ordering.columns, raw, strict=True):
        field = model._meta.get_field(column)
        if isinstance(field, models.DateTimeField):
            if not isinstance(value, str) or len(value) > 40:
                raise _bad_cursor()
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                raise _bad_cursor() from None
            if value.tzinfo is None:
                raise _bad_cursor()
        elif isinstance(value, bool) or not isinstance(value, int):
            raise _bad_cursor()
        try:
            # Choices and the column's integer range: out-of-range values never reach SQL.
            field.run_validators(value)
            if field.choices:
                field.validate(value, None)
        except DjangoValidationError:
            raise _bad_cursor() from None
        values.append(value)
    return values


def key_values_of(obj, ordering: KeyOrdering) -> list:
    """Return a row's key values as JSON-ready values (datetimes as ISO 8601 text)."""
    values = []
    for column in ordering.columns:
        value = getattr(obj, column)
        values.append(value.isoformat() if isinstance(value, datetime) else value)
    return values


def count_capped(queryset: QuerySet, cap: int) -> tuple[int, bool]:
    """Count up to `cap` rows: (count, exact). Reads at most cap + 1 rows, never the whole set."""
    # Only the primary key, no joins, no order: the cheapest rows to count.
    seen = queryset.order_by().values("pk")[: cap + 1].count()
    return min(seen, cap), seen <= cap


class KeysetPagination(BasePagination):
    """Cursor pages over one of a fixed set of indexed orderings, with a capped count.

    Query parameters: `cursor` (from a `next` / `previous` link), `ordering` (one of
    `orderings`, `default_ordering` when absent) and `page_size` (1 to `max_page_size`).
    Anything else in them answers 400.
    """

    orderings: tuple[KeyOrdering, ...] = ()
    default_ordering: str = ""
    page_size = 25
    max_page_size = 200
    # The count is exact up to here; above it the answer says "more than count".
    count_cap = 1000
    cursor_query_param = "cursor"
    ordering_query_param = "ordering"
    page_size_query_param = "page_size"
    # The page-number parameter of the old contract: refused rather than silently ignored,
    # so a client walking page=1, 2, 3 ... does not read the first page forever.
    refused_query_params = ("page",)

    def _ordering(self, request) -> KeyOrdering:
        by_name = {ordering.name: ordering for ordering in self.orderings}
        name = request.query_params.get(self.ordering_query_param) or self.default_ordering
        if name not in by_name:
            raise ValidationError({self.ordering_query_param: [
                _("Choose one of: %(choices)s.") % {"choices": ", ".join(by_name)}]})
        return by_name[name]

    def _page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError({self.page_size_query_param: [
                _("Give a whole number from 1 to %(max)d.") % {"max": self.max_page_size}]})
        return int(raw)

    def _position(self, request, queryset: QuerySet, ordering: KeyOrdering) -> Position | None:
        text = request.query_params.get(self.cursor_query_param)
        if not text:  # absent, or empty like an unset filter: the first page
            return None
        payload = decode_cursor(text)
        if payload["o"] != ordering.name:
            raise ValidationError({self.cursor_query_param: [
                _("This cursor belongs to another ordering; keep the ordering of the link.")]},
                code="does_not_exist")
        if payload["d"] not in (NEXT, PREVIOUS):
            raise _bad_cursor()
        values = key_field_values(queryset.model, ordering, payload["k"])
        return Position(ordering.name, payload["d"], values)

    def paginate_queryset(self, queryset, request, view=None):
        for name in self.refused_query_params:
            if name in request.query_params:
                raise ValidationError({name: [_("This list pages with a cursor: follow the next "
                                                "and previous links instead.")]})
        self.request = request
        self.ordering = self._ordering(request)
        size = self._page_size(request)
        position = self._position(request, queryset, self.ordering)
        self.count, self.count_is_exact = count_capped(queryset, self.count_cap)

        backwards = position is not None and position.direction == PREVIOUS
        page = queryset.order_by(*self.ordering.order_by(backwards=backwards))
        if position is not None:
            page = page.filter(self.ordering.after(position.values, backwards=backwards))
        # One row more than the page tells whether another page follows in that direction.
        rows = list(page[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        if backwards:
            rows.reverse()
            self.has_previous, self.has_next = more, True
        else:
            self.has_previous, self.has_next = position is not None, more
        self.rows = rows
        return rows

    def _link(self, row, direction: str) -> str:
        url = self.request.build_absolute_uri()
        cursor = encode_cursor(Position(self.ordering.name, direction,
                                        key_values_of(row, self.ordering)))
        return replace_query_param(url, self.cursor_query_param, cursor)

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        if not self.rows:  # walked back past the start of a list that has since changed
            return remove_query_param(self.request.build_absolute_uri(), self.cursor_query_param)
        return self._link(self.rows[-1], NEXT)

    def get_previous_link(self) -> str | None:
        # An empty page after a cursor (its rows were deleted meanwhile) has no row to go
        # back from; the caller still holds the link that led there.
        if not self.has_previous or not self.rows:
            return None
        return self._link(self.rows[0], PREVIOUS)

    def get_paginated_response(self, data):
        return Response({
            "count": self.count,
            "count_is_exact": self.count_is_exact,
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
            "results": data,
        })

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["count", "count_is_exact", "next", "previous", "results"],
            "properties": {
                "count": {
                    "type": "integer", "example": 123,
                    "description": f"How many rows the list holds with these filters, counted "
                                   f"up to {self.count_cap}: above that it says {self.count_cap} "
                                   f"and count_is_exact is false.",
                },
                "count_is_exact": {
                    "type": "boolean",
                    "description": "False when the list holds more rows than count says.",
                },
                "next": {"type": "string", "nullable": True, "format": "uri",
                         "description": "The next page, or null on the last one."},
                "previous": {"type": "string", "nullable": True, "format": "uri",
                             "description": "The previous page, or null on the first one."},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        names = [ordering.name for ordering in self.orderings]
        return [
            {
                "name": self.cursor_query_param, "required": False, "in": "query",
                "description": "Where the page starts: copy it from a next or previous link; "
                               "it is opaque and only valid with the same ordering.",
                "schema": {"type": "string"},
            },
            {
                "name": self.ordering_query_param, "required": False, "in": "query",
                "description": f"The order of the list (default {self.default_ordering}).",
                "schema": {"type": "string", "enum": names, "default": self.default_ordering},
            },
            {
                "name": self.page_size_query_param, "required": False, "in": "query",
                "description": f"Rows per page, 1 to {self.max_page_size}.",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size,
                           "default": self.page_size},
            },
        ]


def check_orderings(model, orderings) -> None:
    """Refuse, at import time, an ordering whose last column is not unique or not supported."""
    for ordering in orderings:
        try:
            fields = [model._meta.get_field(column) for column in ordering.columns]
        except FieldDoesNotExist as error:
            raise ImproperlyConfigured(f"{ordering.name}: {error}") from None
        if not fields[-1].unique:
            raise ImproperlyConfigured(f"{ordering.name}: the last key column must be unique")
        for field in fields:
            if not isinstance(field, models.DateTimeField | models.IntegerField | models.AutoField):
                raise ImproperlyConfigured(f"{ordering.name}: {field.name} is not a key type")
