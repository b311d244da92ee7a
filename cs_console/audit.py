"""Saving audited models so every history row says who changed what, and why."""

from django.db import models

from cs_console import audit_chain


def save_with_history(obj: models.Model, *, actor, reason: str, update_fields=None) -> None:
    """Save obj so its history row records the acting user and a stable reason key.

    `actor` is None for the system (sweeps, tasks); the row then names the system account,
    so no history row is ever anonymous. `reason` is a stable key such as
    "transition:resolve" or "escalate:L2", translated only when shown.
    """
    if actor is None:
        from cs_console.accounts import system_user

        actor = system_user()
    obj._history_user = actor
    obj._change_reason = reason
    obj.save(update_fields=update_fields)


def initial_history_row(historical_model, instance, *, when, reason: str):
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
