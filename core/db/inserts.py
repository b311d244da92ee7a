"""New rows written the same way many times: their INSERT built once, not on every save.

`Model.save()` and `QuerySet.bulk_create()` build their INSERT anew on every call: a query
object, its compiler, each field's placeholder and value, the RETURNING clause. For a path
that writes the same kinds of rows at a high rate (API intake writes a ticket, its message,
their history rows and its idempotency key) that building cost more than the statements
themselves. `insert_new()` asks Django's compiler for the statement once per model, number
of rows and database, and afterwards only turns each row's values into parameters, as the
compiler would (`Field.pre_save(add=True)`, `Field.get_db_prep_save()`).

What it does not do, by design: send `pre_save`/`post_save` signals or write history (the
callers write their history rows themselves, in one statement: core.services.audit), or
insert expressions (F(), functions: refused). A model with `pre_save` receivers is
refused too: those are guards (tickets.services.legal_holds) that no writer may pass by.
Where the database cannot return the new keys of a multi-row INSERT it falls back to
`bulk_create()`.

`together()` sends the INSERTs of a block in one statement where the database can
(PostgreSQL: each INSERT a data-modifying WITH query of one statement). Every statement is
a round trip with its own work on both sides (five more per intake cost 7 % of the rate),
and a lock taken before the block is held over fewer of them (bench/RESULTS.md, "5 December
2026, 21:30–22:50 UTC").
"""

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models, router
from django.db.models import sql
from django.db.models.constants import OnConflict
from django.db.models.signals import pre_save
from django_fsm import FSMField

# Where a row that exists already is updated instead: (unique fields, fields to update).
_Conflict = tuple[tuple[str, ...], tuple[str, ...]] | None
# (model, rows, database alias, conflict, rows with keys) -> statement, or None where
# Django's bulk_create() does it. Bounded by the models and row counts callers use: a handful.
_STATEMENTS: dict[tuple[type[models.Model], int, str, _Conflict, bool], "_Statement | None"] = {}


@dataclass(frozen=True)
class _Statement:
    sql: str
    returning: tuple[models.Field, ...]
    # PostgreSQL inserts several rows from one array per column (INSERT ... SELECT * FROM
    # UNNEST(...), Django 5.2): the parameters go column by column, not row by row.
    by_column: bool


@dataclass
class _Batch:
    """The INSERTs of a together() block, not sent yet: (statement, parameters, rows)."""

    alias: str
    pending: list[tuple["_Statement", list, Sequence[models.Model]]] = dataclass_field(
        default_factory=list)


_batch: ContextVar[_Batch | None] = ContextVar("inserts_batch", default=None)


@contextmanager
def together(*, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Queue the block's insert_new() and upsert() calls and send them, in order, in one
    statement when the block ends (PostgreSQL); elsewhere each runs at once, as outside.

    Within the block a queued row has no key until the block ends, unless it was given one
    (`reserve_keys`): a row that another row of the block refers to needs its key taken
    ahead. Other statements of the block (reads, saves) run at once, before what is queued;
    an INSERT that cannot wait (rows of another database, or returning more than keys)
    sends what was queued first, then itself. The block runs inside a transaction, and
    nothing queued is sent if it raises: the transaction is to be rolled back. Blocks do
    not nest: an inner block joins the outer one.
    """
    if _batch.get() is not None:
        yield
        return
    if not connections[using].in_atomic_block:
        raise TypeError("together() runs inside transaction.atomic().")
    if connections[using].vendor != "postgresql":  # no batch: each INSERT runs at once
        yield
        return
    batch = _Batch(alias=using)
    token = _batch.set(batch)
    try:
        yield
        _flush(batch)
    finally:
        _batch.reset(token)


def _flush(batch: _Batch) -> None:
    """Send the queued INSERTs: one statement where there are several, each as a WITH query
    whose new keys the statement selects, in order (only keys are returned from there)."""
    pending, batch.pending = batch.pending, []
    if not pending:
        return
    connection = connections[batch.alias]
    if len(pending) == 1:
        _execute(*pending[0], connection)
        return
    text = _statement_of_batch(tuple((statement, objs[0].pk is None)
                                     for statement, _params, objs in pending))
    with connection.cursor() as cursor:
        cursor.execute(text, [value for _statement, params, _objs in pending
                              for value in params])
        returned = cursor.fetchall()
    keys: dict[int, list[tuple]] = {}
    for number, key in returned:
        keys.setdefault(number, []).append((key,))
    for number, (statement, _params, objs) in enumerate(pending):
        key_field = _key_field(statement)
        if number in keys and key_field is not None:
            _set_returned(objs, keys[number], (key_field,), connection)
        _mark_saved(objs, connection.alias)


@functools.cache
def _statement_of_batch(inserts: tuple[tuple["_Statement", bool], ...]) -> str:
    """One statement of the batch's INSERTs (PostgreSQL), each with whether its rows need
    their new keys back: those are selected, numbered by the INSERT they come from. Cached:
    the batches a service writes are of a few fixed shapes."""
    queries, selects = [], []
    for number, (statement, keys_wanted) in enumerate(inserts):
        queries.append(f'"new{number}" AS ({statement.sql})')
        key_field = _key_field(statement)
        if keys_wanted and key_field is not None:
            # Names and numbers of the statement's own making, no outside text.
            selects.append(f'SELECT {number}, "{key_field.column}" FROM "new{number}"')  # noqa: S608
    return ("WITH " + ", ".join(queries) + " "
            + (" UNION ALL ".join(selects) or "SELECT NULL, NULL WHERE FALSE"))


def insert_new(objs: Sequence[models.Model], *, using: str | None = None) -> None:
    """Insert new rows of one model in one statement and give them their keys, as
    bulk_create() does, with the statement built once (see the module's docstring).
    Rows that hold keys taken ahead (`reserve_keys`) are inserted with them."""
    _insert(objs, using=using, conflict=None)


def reserve_keys(model: type[models.Model], count: int = 1, *,
                 using: str | None = None) -> list[int] | None:
    """Take `count` keys for new rows of `model` from its key's sequence now, for rows
    inserted later in the transaction; None where the database has no sequences (SQLite),
    and a row's key comes only with its INSERT.

    A key taken is never handed out again, used or not (a rolled-back transaction leaves a
    gap in the keys, as an INSERT rolled back does)."""
    return reserve_keys_of([model] * count, using=using)


def reserve_keys_of(models_: Sequence[type[models.Model]], *,
                    using: str | None = None) -> list[int] | None:
    """Take one key for each model listed (a model listed twice gets two), in one
    statement, as reserve_keys() does."""
    alias = using or router.db_for_write(models_[0])
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return None
    quote = connection.ops.quote_name
    columns = ", ".join("nextval(pg_get_serial_sequence(%s, %s))" for _model in models_)
    params = [value for model in models_
              for value in (quote(model._meta.db_table), model._meta.pk.column)]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns}", params)
        return list(cursor.fetchone())


def upsert(objs: Sequence[models.Model], *, unique_fields: Sequence[str],
           update_fields: Sequence[str], using: str | None = None) -> None:
    """Insert rows, updating `update_fields` of those whose `unique_fields` match a row
    that exists, as bulk_create(update_conflicts=True) does, the statement built once."""
    _insert(objs, using=using, conflict=(tuple(unique_fields), tuple(update_fields)))


def _insert(objs: Sequence[models.Model], *, using: str | None, conflict: _Conflict) -> None:
    if not objs:
        return
    model = type(objs[0])
    if pre_save.has_listeners(model):
        raise TypeError(f"{model.__name__} has pre_save receivers: save it with save().")
    alias = using or router.db_for_write(model)
    connection = connections[alias]
    with_keys = objs[0].pk is not None
    if any((obj.pk is not None) != with_keys for obj in objs):
        raise TypeError("insert_new() takes rows that all have their keys, or none.")
    fields = _inserted_fields(model, with_keys)
    for obj in objs:
        # Model.save()'s own check: a related object assigned unsaved is an error, one
        # saved since it was assigned gives its key now.
        obj._prepare_related_fields_for_save(operation_name="insert")  # type: ignore[attr-defined]
        for field in fields:
            if hasattr(getattr(obj, field.attname), "resolve_expression"):
                raise TypeError(f"insert_new() takes values, not expressions ({field.name}).")
    key = (model, len(objs), alias, conflict, with_keys)
    if key not in _STATEMENTS:
        _STATEMENTS[key] = _build(model, objs, connection, conflict, fields)
    statement = _STATEMENTS[key]
    batch = _batch.get()
    if batch is not None and not (statement is not None
                                  and _may_wait(batch, alias, statement, fields)):
        _flush(batch)  # what the block queued goes first: its rows are written in order
        batch = None
    if statement is None:  # e.g. no RETURNING of several rows here: Django's own way
        manager = model._base_manager.using(alias)
        if conflict is None:
            manager.bulk_create(objs)
        else:
            manager.bulk_create(objs, update_conflicts=True, unique_fields=conflict[0],
                                update_fields=conflict[1])
        return
    # After _build: the values sent are those pre_save() leaves on the rows (auto_now).
    kinds = _plain_kinds(model, with_keys)
    rows = [_row_values(obj, fields, kinds, connection) for obj in objs]
    params = ([list(column) for column in zip(*rows, strict=True)] if statement.by_column
              else [value for row in rows for value in row])
    if batch is not None:
        batch.pending.append((statement, params, objs))
        return
    _execute(statement, params, objs, connection)


def _may_wait(batch: _Batch, alias: str, statement: "_Statement",
              fields: tuple[models.Field, ...]) -> bool:
    """Whether an INSERT may wait for the batch's one statement: to the batch's database,
    and returning what the rows hold already besides their new keys (the batch reads back
    no more: a column with a database default comes back as it was sent, a generated one
    would not)."""
    return alias == batch.alias and all(
        field.primary_key or field in fields for field in statement.returning)


def _key_field(statement: "_Statement") -> models.Field | None:
    """The key among what the INSERT returns (None: the database does not make it)."""
    return next((field for field in statement.returning if field.primary_key), None)


def _execute(statement: "_Statement", params: list, objs: Sequence[models.Model],
             connection: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, params)
        if statement.returning:
            _set_returned(objs, cursor.fetchall(), statement.returning, connection)
    _mark_saved(objs, connection.alias)


def _mark_saved(objs: Sequence[models.Model], alias: str) -> None:
    for obj in objs:
        obj._state.adding = False
        obj._state.db = alias


def _set_returned(objs: Sequence[models.Model], rows: list[tuple],
                  fields: tuple[models.Field, ...], connection: Any) -> None:
    """Give the rows what RETURNING gave back (their keys), converted as
    SQLInsertCompiler.execute_sql converts it (plain keys need no converter)."""
    table = type(objs[0])._meta.db_table
    columns = [field.get_col(table) for field in fields]
    converters = [connection.ops.get_db_converters(column) + column.get_db_converters(connection)
                  for column in columns]
    for obj, row in zip(objs, rows, strict=True):
        for field, column, value, functions in zip(fields, columns, row, converters,
                                                   strict=True):
            for function in functions:
                value = function(value, column, connection)
            setattr(obj, field.attname, value)


# Field classes whose pre_save() reads the attribute and whose get_db_prep_save() gives a
# value of this type back as it is (None too): such values need no call of either. Exact
# classes only, as a subclass may convert differently.
_PLAIN_TYPES: dict[type[models.Field], type] = {
    models.CharField: str, models.TextField: str, FSMField: str, models.BooleanField: bool,
    **dict.fromkeys([models.IntegerField, models.BigIntegerField, models.SmallIntegerField,
                     models.PositiveIntegerField, models.PositiveSmallIntegerField,
                     models.PositiveBigIntegerField, models.AutoField, models.BigAutoField,
                     models.SmallAutoField], int),
}


@functools.cache
def _plain_kinds(model: type[models.Model], with_keys: bool) -> tuple[type | None, ...]:
    """For each inserted field, the type whose values (and None) are sent as they are; None
    where every value goes through pre_save() and get_db_prep_save(). On a row of a wide
    model most values are text, numbers or None, and converting each one took a twentieth
    of an intake's Python (bench/RESULTS.md)."""
    return tuple(_plain_kind(field) for field in _inserted_fields(model, with_keys))


def _row_values(obj: models.Model, fields: tuple[models.Field, ...],
                kinds: tuple[type | None, ...], connection: Any) -> list:
    """The row's values as the database takes them: what Field.pre_save(add=True) leaves,
    through Field.get_db_prep_save(), but for values of a plain kind (_plain_kinds)."""
    values = []
    for field, kind in zip(fields, kinds, strict=True):
        if kind is None:
            value = field.get_db_prep_save(field.pre_save(obj, True), connection=connection)
        else:
            value = getattr(obj, field.attname)
            if value is not None and type(value) is not kind:
                value = field.get_db_prep_save(value, connection=connection)
        values.append(value)
    return values


def _plain_kind(field: models.Field) -> type | None:
    if type(field) is models.ForeignKey:  # the key as its target column stores it
        return _plain_kind(field.target_field)
    if type(field) is models.DateTimeField and not (field.auto_now or field.auto_now_add):
        return type(None)  # only None: a date and time is checked and adapted
    return _PLAIN_TYPES.get(type(field))


@functools.cache
def _inserted_fields(model: type[models.Model], with_keys: bool) -> tuple[models.Field, ...]:
    """The fields an INSERT of a new row writes: all but the generated ones, and but the
    auto key unless the rows have theirs already."""
    opts = model._meta
    return tuple(field for field in opts.concrete_fields
                 if (with_keys or field is not opts.auto_field) and not field.generated)


def _build(model: type[models.Model], objs: Sequence[models.Model], connection: Any,
           conflict: _Conflict, fields: tuple[models.Field, ...]) -> _Statement | None:
    """Compile the INSERT as bulk_create() would for these rows, or None."""
    opts = model._meta
    returning = tuple(opts.db_returning_fields)
    can_return = (connection.features.can_return_rows_from_bulk_insert if len(objs) > 1
                  else connection.features.can_return_columns_from_insert)
    if returning and not can_return:
        return None
    if conflict is None:
        query = sql.InsertQuery(model)
    elif connection.features.supports_update_conflicts_with_target:
        query = sql.InsertQuery(
            model, on_conflict=OnConflict.UPDATE,
            unique_fields=[opts.get_field(name) for name in conflict[0]],
            update_fields=[opts.get_field(name) for name in conflict[1]])
    else:
        return None
    query.insert_values(fields, list(objs))
    compiler = query.get_compiler(connection=connection)
    compiler.returning_fields = list(returning) or None
    statements = compiler.as_sql()
    if len(statements) != 1:
        return None
    text, params = statements[0]
    by_column = (len(objs) > 1 and len(params) == len(fields)
                 and all(isinstance(column, list) and len(column) == len(objs)
                         for column in params))
    if not by_column and len(params) != len(fields) * len(objs):
        return None  # a field with a placeholder of its own
    return _Statement(sql=text, returning=returning, by_column=by_column)
