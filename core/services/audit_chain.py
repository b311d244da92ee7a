"""Tamper evidence for history rows: a hash chain per audited object.

Every history row of a chained model carries `chain_hash`, a sha256 over the row's content
and `chain_prev`, the hash of the previous history row of the same object ("" for the
first). Editing a row's content changes its hash; deleting or inserting a row breaks the
link of the row after it. `verify()` walks the chains and reports what no longer matches;
PostgreSQL triggers (see `append_only_sql`) refuse UPDATE and DELETE on these tables, so
the chain is what catches someone who went around them as the table owner.

Order of a chain: per object, by `history_id`, the order the rows were inserted. Not by
`history_date`: that is the writing server's clock, and two servers a few milliseconds
apart could write an object's rows with dates in the opposite order.

Why per object and not one chain for the whole table: writers of different objects never
wait for each other, and a bulk load computes each row's hash as it builds the row. It is
race-free because every history row is written after the INSERT, UPDATE or DELETE of its
object's row, in the same transaction; that statement holds the object row's lock until
COMMIT, so a second writer of the same object waits, and (READ COMMITTED) then reads the
first writer's committed history row as its previous one. Bulk history writes (the SLA
sweeps) lock their rows first too. tests/core/test_audit_chain.py checks it with two
connections on PostgreSQL.

Content: every concrete field of the history row except `history_id` and the chain fields,
by attname, as JSON with sorted keys; Decimal, datetime, date, UUID as strings (datetimes
in UTC). A field whose value equals its constant default is left out, which keeps the
mapping one-to-one and lets a later migration add a field with a default (or a nullable
one) without changing the hashes of older rows. The rule this brings: do not change the
default of a field of an audited model, and give a new field a constant default or
null=True (older rows would hash differently and verify as broken).

SQLite (development only) gets no trigger: Django's `flush` and the teardown of
transactional tests empty tables there with DELETE, which a trigger would refuse. The chain
and its check work the same on both databases.
"""

import datetime
import hashlib
import json
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.db import models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.models import Max, ProtectedError
from django.db.models.signals import pre_delete
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.signals import pre_create_historical_record

from core.models.audit import AuditPurgeAnchor

if TYPE_CHECKING:
    from core.models.user import User

# The object's own primary key in its history table (every chained model uses "id").
OBJECT_ID = "id"
CHAIN_FIELDS = ("chain_prev", "chain_hash")
_NOT_CONTENT = {"history_id", *CHAIN_FIELDS}
_NO_DEFAULT = object()
# (attname, field, plain default or _NO_DEFAULT, stored type) of one content field.
ContentField = tuple[str, "models.Field[Any, Any]", object, type | None]
# Where _content_fields caches a model's list: in the class's own __dict__, so a subclass
# (or a migration's state model) never reads its parent's.
_CONTENT_FIELDS_CACHE = "_chain_content_fields"
_History = TypeVar("_History", bound="ChainedHistory")

# Set (SET LOCAL, so only for the transaction) by the purge command; the trigger lets
# UPDATE and DELETE through while it is 'on'.
MAINTENANCE_SETTING = "cs_console.audit_maintenance"


class ChainedHistoryQuerySet(models.QuerySet[_History]):
    def bulk_create(self, objs: Iterable[_History], *args: Any, sealed: bool = False,
                    **kwargs: Any) -> list[_History]:
        """Seal the rows before writing them: simple_history's bulk_history_create (and so
        bulk_create_with_history, bulk_update_with_history) writes history through here.
        `sealed`: the caller has sealed them already (audit.write_history)."""
        objs = list(objs)
        if not sealed:
            seal(objs, using=self.db)
        return super().bulk_create(objs, *args, **kwargs)


class ChainedHistory(models.Model):
    """Abstract base of chained history models: `HistoricalRecords(bases=[ChainedHistory])`."""

    chain_prev = models.CharField(_("previous row's hash"), max_length=64, blank=True,
                                  default="", editable=False)
    chain_hash = models.CharField(_("row hash"), max_length=64, blank=True, default="",
                                  editable=False)

    objects = ChainedHistoryQuerySet.as_manager()

    # simple_history adds these to every concrete history model.
    history_id: int
    history_type: str

    class Meta:
        abstract = True


@receiver(pre_create_historical_record)
def _seal_history_row(sender: type[models.Model], history_instance: models.Model,
                      instance: models.Model | None = None, using: str | None = None,
                      **kwargs: object) -> None:
    if not isinstance(history_instance, ChainedHistory):
        return
    if history_instance.history_type == "+" and getattr(instance, "_history_first_link", False):
        # The object's row was just numbered by the database (audit.save_with_history):
        # nothing can precede this row, so there is nothing to look up.
        seal_first(history_instance)
    else:
        seal([history_instance], using=using)


def first_row_naming(user: "User") -> models.Model | None:
    """A chained history row that names `user` as its actor, or None (one query per table)."""
    for model in chained_history_models():
        row = model._default_manager.filter(history_user_id=user.pk).order_by().first()
        if row is not None:
            return row
    return None


@receiver(pre_delete, sender=settings.AUTH_USER_MODEL)
def _refuse_deleting_actors(sender: type[models.Model], instance: "User",
                            **kwargs: object) -> None:
    """Deleting a user would set history_user to NULL in the rows that name them: an
    UPDATE of history, which the trigger refuses (and which would break the chain where
    there is no trigger). Refuse it here, clearly: users are deactivated, not deleted."""
    row = first_row_naming(instance)
    if row is not None:
        raise ProtectedError(
            f"{instance} is named by audit history ({row._meta.db_table}); deactivate the "
            "account instead of deleting it.", {row})


# --- content and hash ----------------------------------------------------------------------
def _plain(field: "models.Field[Any, Any]", value: object) -> object:
    """The value as JSON-able data, the same before saving and after reading it back."""
    if value is None:
        return None
    if isinstance(field, models.JSONField):
        # As the database gives it back: encoded with the field's encoder, decoded plainly.
        return json.loads(json.dumps(value, cls=field.encoder))
    if hasattr(value, "name") and isinstance(field, models.FileField):
        value = value.name
    value = field.to_python(value)
    if value is None:
        return None
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, datetime.datetime):
        if timezone.is_naive(value):  # as Django stores it: in the default time zone
            value = timezone.make_aware(value, timezone.get_default_timezone())
        return value.astimezone(datetime.UTC).isoformat(timespec="microseconds")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        places = getattr(field, "decimal_places", None)
        if places is not None:
            value = value.quantize(Decimal(1).scaleb(-places))
        return format(value, "f")
    if isinstance(value, datetime.timedelta):
        return str(value // datetime.timedelta(microseconds=1))
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    if isinstance(value, float):
        return value
    return str(value)


def _stored_type(field: "models.Field[Any, Any]") -> type | None:
    """The Python type the database gives back for the field, where that is str, int or
    bool: a value already of that type needs no conversion (the bulk loader's hot path)."""
    # A relation among concrete fields is a foreign key: it stores its target's column.
    target = field.target_field if isinstance(field, models.ForeignObject) else field
    if isinstance(target, models.BooleanField):
        return bool
    if isinstance(target, models.IntegerField):
        return int
    if isinstance(target, models.CharField | models.TextField):
        return str
    return None


def _content_fields(model: type[models.Model]) -> list[ContentField]:
    """(attname, field, plain default or _NO_DEFAULT, stored type) of the content fields."""
    cached: list[ContentField] | None = model.__dict__.get(_CONTENT_FIELDS_CACHE)
    if cached is None:
        cached = []
        for field in model._meta.concrete_fields:
            if field.attname in _NOT_CONTENT:
                continue
            default: object
            if field.has_default() and callable(field.default):
                default = _NO_DEFAULT  # a fresh value each time: always hashed
            else:
                default = _plain(field, field.get_default())
            cached.append((field.attname, field, default, _stored_type(field)))
        setattr(model, _CONTENT_FIELDS_CACHE, cached)
    return cached


def content_hash(model: type[models.Model], values: Mapping[str, object], prev: str) -> str:
    """sha256 (hex) of a history row's content, given by attname in `values`, and `prev`."""
    content: dict[str, object] = {}
    get = values.get
    for attname, field, default, stored_type in _content_fields(model):
        value = get(attname)
        if type(value) is not stored_type:
            value = _plain(field, value)
        if value != default or default is _NO_DEFAULT:
            content[attname] = value
    payload = json.dumps([prev, content], sort_keys=True, separators=(",", ":"),
                         ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(payload.encode()).hexdigest()


class _RowValues(Mapping[str, object]):
    """A model instance read as {attname: value}, for content_hash."""

    def __init__(self, row: models.Model) -> None:
        self.row = row

    def __getitem__(self, key: str) -> object:
        return getattr(self.row, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self.row.__dict__)

    def __len__(self) -> int:
        return len(self.row.__dict__)

    def get(self, key: str, default: object = None) -> object:
        return getattr(self.row, key, default)


def latest_hashes(model: type[models.Model], object_ids: Iterable[int], *,
                  using: str | None = None) -> dict[int, str]:
    """{object id: chain_hash of its newest history row} for the objects that have rows."""
    ids = set(object_ids)
    if not ids:
        return {}
    manager = model._default_manager.db_manager(using)
    newest = (manager.filter(**{f"{OBJECT_ID}__in": ids}).order_by().values(OBJECT_ID)
              .annotate(newest=Max("history_id")).values("newest"))
    return dict(manager.filter(history_id__in=newest).order_by()
                .values_list(OBJECT_ID, "chain_hash"))


def _link(row: models.Model, prev: str) -> str:
    """Set a history row's chain fields from `prev` and its content; return its hash."""
    # Also rows of a migration's state model, whose chain fields no class declares.
    chained: Any = row
    chained.chain_prev = prev
    chained.chain_hash = chain_hash = content_hash(type(row), _RowValues(row), prev)
    return chain_hash


def seal(rows: Sequence[models.Model], *, using: str | None = None) -> None:
    """Fill chain_prev and chain_hash of unsaved history rows of one model, in list order.

    One query finds each object's newest existing row; rows of the same object later in
    the list chain onto the earlier ones (they are inserted in list order).
    """
    if not rows:
        return
    model = type(rows[0])
    last = latest_hashes(model, (getattr(row, OBJECT_ID) for row in rows), using=using)
    for row in rows:
        object_id = getattr(row, OBJECT_ID)
        last[object_id] = _link(row, last.get(object_id, ""))


def seal_first(row: models.Model) -> None:
    """Seal the first history row of an object that has none yet (no query needed)."""
    _link(row, "")


def seal_new(rows: Sequence[models.Model]) -> None:
    """Seal unsaved history rows of objects that have no history yet, in list order (the
    first row of each object starts its chain; no query needed)."""
    last: dict[int, str] = {}
    for row in rows:
        object_id = getattr(row, OBJECT_ID)
        last[object_id] = _link(row, last.get(object_id, ""))


def is_chained(model: type[models.Model]) -> bool:
    """Whether a history model (also one of a migration's state) has the chain fields."""
    if issubclass(model, ChainedHistory):  # the app's own models: no need to list fields
        return True
    names = {field.name for field in model._meta.concrete_fields}
    return set(CHAIN_FIELDS) <= names


def chained_history_models() -> list[type[models.Model]]:
    """The history models whose rows are chained, in a stable order."""
    from django.apps import apps

    found = [model for model in apps.get_models() if issubclass(model, ChainedHistory)]
    return sorted(found, key=lambda model: model._meta.db_table)


# --- verification ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Break:
    """The first row of an object's chain that does not match."""

    table: str
    history_id: int
    object_id: int
    history_date: datetime.datetime
    problem: str  # "content" (the row was edited) or "link" (a row before it is missing)


def walk(model: type[models.Model], rows: Iterable[Mapping[str, Any]], *,
         anchor_ok: Callable[[int, str], bool] | None = None) -> Iterator[Break]:
    """Check rows of `model` given in chain order (object id, then history_id).

    Yields at most one Break per object: after a break the rest of that object's chain
    says nothing new. `anchor_ok(object_id, prev)` says whether an object's first row may
    point at a row that was purged (see PurgeAnchors and the purge command).
    """
    table = model._meta.db_table
    current: object = _NO_DEFAULT
    expected: str | None = ""  # None: the next row is the object's first remaining one
    broken = False
    for row in rows:
        object_id = row[OBJECT_ID]
        if object_id != current:
            current, expected, broken = object_id, None, False
        if broken:
            continue
        prev = row["chain_prev"]
        if expected is None:  # the object's first remaining row
            linked = prev == "" or (anchor_ok is not None and anchor_ok(object_id, prev))
        else:
            linked = prev == expected
        problem = None
        if not linked:
            problem = "link"
        elif content_hash(model, row, prev) != row["chain_hash"]:
            problem = "content"
        if problem:
            broken = True
            yield Break(table, row["history_id"], object_id, row["history_date"], problem)
        expected = row["chain_hash"]


def first_break(model: type[models.Model], rows: Iterable[ChainedHistory]) -> Break | None:
    """Check history rows already read (model instances, any order): the first break or None.

    For pages that hold an object's whole history anyway (the audit trail): no query,
    unless a chain starts at a purged row and the purge records must be read.
    """
    ordered = sorted(rows, key=lambda row: (getattr(row, OBJECT_ID), row.history_id))
    rows_as_values = (_RowValues(row) for row in ordered)
    anchors = PurgeAnchors(model, object_ids={getattr(row, OBJECT_ID) for row in ordered})
    return next(walk(model, rows_as_values, anchor_ok=anchors), None)


def _column_names(model: type[models.Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


def verify(model: type[models.Model], *, object_id: int | None = None,
           chunk_size: int = 2000) -> Iterator[Break]:
    """Walk the chains of one history table from the database, streaming.

    One query read through a server-side cursor on PostgreSQL (chunked fetches elsewhere),
    so memory stays bounded whatever the table's size.
    """
    names = _column_names(model)
    rows = model._default_manager.order_by(OBJECT_ID, "history_id")
    if object_id is not None:
        rows = rows.filter(**{OBJECT_ID: object_id})
    stream = (dict(zip(names, values, strict=True))
              for values in rows.values_list(*names).iterator(chunk_size=chunk_size))
    anchors = PurgeAnchors(model, chunk_size=chunk_size)
    if object_id is not None:
        anchors.object_ids = [object_id]
    yield from walk(model, stream, anchor_ok=anchors)


class PurgeAnchors:
    """anchor_ok for walk(): an object's first remaining row may point at a purged row
    only if the purge recorded that row's hash for that object (AuditPurgeAnchor).

    Asked in object-id order (as verify() walks), it reads the table's anchors alongside,
    in the same order, so memory stays bounded; asked about a few objects (the audit page,
    `object_ids`), it reads theirs in one query. Nothing is read until a row needs it.
    """

    def __init__(self, model: type[models.Model], *, object_ids: Collection[int] | None = None,
                 chunk_size: int = 2000) -> None:
        self.table = model._meta.db_table
        self.object_ids = object_ids
        self.chunk_size = chunk_size
        self._stream: Iterator[tuple[int, str]] | None = None
        self._pending: tuple[int, str] | None = None
        self._known: dict[int, set[str]] = {}

    def _anchors(self) -> Iterator[tuple[int, str]]:

        anchors = AuditPurgeAnchor.objects.filter(purge__table=self.table)
        if self.object_ids is not None:
            anchors = anchors.filter(object_id__in=self.object_ids)
        return (anchors.order_by("object_id", "chain_hash").values_list("object_id", "chain_hash")
                .iterator(chunk_size=self.chunk_size))

    def __call__(self, object_id: int, prev: str) -> bool:
        if self._stream is None:
            self._stream = self._anchors()
            self._pending = next(self._stream, None)
        # Skip the anchors of objects before this one, collect this one's.
        while self._pending is not None and self._pending[0] <= object_id:
            anchored_id, chain_hash = self._pending
            if anchored_id == object_id:
                self._known.setdefault(object_id, set()).add(chain_hash)
            self._pending = next(self._stream, None)
        return prev in self._known.pop(object_id, set())


# --- append-only triggers --------------------------------------------------------------------
_FUNCTION = "cs_console_history_append_only"


def append_only_function_sql() -> str:
    return f"""
CREATE OR REPLACE FUNCTION {_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('{MAINTENANCE_SETTING}', true), '') = 'on' THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    RAISE EXCEPTION 'History is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation',
              HINT = 'Users are deactivated, not deleted; retention deletes go through '
                     'the purge_audit_history command.';
END;
$$;
"""


def append_only_sql(table: str) -> str:
    return (f'CREATE TRIGGER "{table}_append_only" BEFORE UPDATE OR DELETE ON "{table}" '
            f"FOR EACH ROW EXECUTE FUNCTION {_FUNCTION}();")


def drop_append_only_sql(table: str) -> str:
    return f'DROP TRIGGER IF EXISTS "{table}_append_only" ON "{table}";'


# --- upgrading a database (data migrations) --------------------------------------------------
def backfill(model: type[models.Model], *, batch_size: int = 2000) -> int:
    """Seal every existing row of a history table, chain by chain; return how many.

    For the migration that introduces the chain: rows written before it get their hashes
    from their content as it is now, so an upgraded database verifies clean. Works on a
    migration's state models.
    """
    pending: list[models.Model] = []
    count = 0
    rows = model._default_manager.order_by(OBJECT_ID, "history_id")
    current: object = _NO_DEFAULT
    prev = ""
    for row in rows.iterator(chunk_size=batch_size):
        object_id = getattr(row, OBJECT_ID)
        if object_id != current:
            current, prev = object_id, ""
        prev = _link(row, prev)
        pending.append(row)
        if len(pending) >= batch_size:
            model._default_manager.bulk_update(pending, list(CHAIN_FIELDS))
            count += len(pending)
            pending = []
    if pending:
        model._default_manager.bulk_update(pending, list(CHAIN_FIELDS))
        count += len(pending)
    return count


def protect(schema_editor: BaseDatabaseSchemaEditor, tables: Iterable[str]) -> None:
    """Create the append-only triggers (PostgreSQL only; see the module docs for SQLite)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:  # no params: the SQL holds literal %
        cursor.execute(append_only_function_sql())
        for table in tables:
            cursor.execute(drop_append_only_sql(table))
            cursor.execute(append_only_sql(table))


def unprotect(schema_editor: BaseDatabaseSchemaEditor, tables: Iterable[str]) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table in tables:
            cursor.execute(drop_append_only_sql(table))
