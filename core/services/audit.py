"""Saving audited models so every history row says who changed what, and why."""

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import models

from core.db.inserts import insert_new
from core.services import audit_chain
from core.services.accounts import system_user

if TYPE_CHECKING:
    from core.models.user import User


def stamp_history(obj: models.Model, *, actor: "User | None", reason: str) -> None:
    """Name the user and the reason key of obj's next history rows (a save or an m2m set)."""
    # django-simple-history reads these instance attributes; no model declares them.
    history_context: Any = obj
    history_context._history_user = actor
    history_context._change_reason = reason


def save_with_history(obj: models.Model, *, actor: "User | None", reason: str,
                      update_fields: Iterable[str] | None = None) -> None:
    """Save obj so its history row records the acting user and a stable reason key.

    `actor` is None for the system (sweeps, tasks); the row then names the system account,
    so no history row is ever anonymous. `reason` is a stable key such as
    "transition:resolve" or "escalate:L2", translated only when shown.
    """
    if actor is None:

        actor = system_user()
    stamp_history(obj, actor=actor, reason=reason)
    # A row the database numbers now has no history yet: its history row is the first link
    # of its chain, which audit_chain can seal without looking for a previous one.
    chain_context: Any = obj
    chain_context._history_first_link = obj.pk is None
    try:
        obj.save(update_fields=update_fields)
    finally:
        del chain_context._history_first_link


def delete_with_history(obj: models.Model, *, actor: "User | None", reason: str) -> None:
    """Delete obj so its last history row records the acting user and a stable reason key."""
    if actor is None:

        actor = system_user()
    stamp_history(obj, actor=actor, reason=reason)
    obj.delete()


def history_model_of(model: type[models.Model]) -> Any:
    """The history model of an audited model. Read from the class, not through the
    `history` descriptor, which builds a new manager class on every access."""
    # Any: django-simple-history builds the class at run time and ships no types.
    for klass in model.__mro__:
        descriptor = klass.__dict__.get("history")
        if descriptor is not None:
            return descriptor.model
    raise LookupError(f"{model.__name__} keeps no history")


def history_row(obj: models.Model, *, actor: "User | None", reason: str, history_type: str,
                when: datetime, values: Mapping[str, object] | None = None) -> models.Model:
    """Return an unsaved history row of obj, as simple_history would write it on save.

    For services that write several of an object's history rows in one statement (see
    write_history); `values` ({attname: value}) describes the object as it was at that
    step, where it has changed since. `actor` None names the system account.
    """
    if actor is None:

        actor = system_user()
    history_model = history_model_of(type(obj))
    values = values or {}
    fields = {field.attname: values[field.attname] if field.attname in values
              else getattr(obj, field.attname)
              for field in history_model.tracked_fields}
    row: models.Model = history_model(
        history_date=when, history_type=history_type, history_user=actor,
        history_change_reason=reason, **fields)
    return row


def write_history(rows: Sequence[models.Model], *, new_object: bool) -> None:
    """Insert history rows of one model in one statement, in list order.

    `new_object`: the rows belong to objects created in this transaction, which had no
    history before them, so the chain starts here and no earlier row is looked up.
    """
    if not rows:
        return
    # Any: a class django-simple-history built at run time (its manager takes `sealed`
    # when the rows are chained).
    history_model: Any = type(rows[0])
    if new_object and audit_chain.is_chained(history_model):
        audit_chain.seal_new(rows)
        insert_new(rows)  # the statement built once per row count (core.db.inserts)
    else:
        history_model.objects.bulk_create(rows)


def initial_history_row(historical_model: type[models.Model], instance: models.Model, *,
                        when: datetime, reason: str) -> models.Model:
    """Return an unsaved "created" history row for an instance made without history.

    Data migrations work with historical models, which django-simple-history does not
    follow; the rows they create get their first history row through this.
    """
    values = {field.attname: getattr(instance, field.attname)
              for field in instance._meta.concrete_fields}
    row = historical_model(**values, history_date=when, history_type="+",
                           history_change_reason=reason)
    if audit_chain.is_chained(historical_model):
        audit_chain.seal_first(row)  # chained history (see audit_chain): its first link
    return row
