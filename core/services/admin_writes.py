"""Writes of rows edited by hand in admin (reference data: teams, rules, categories, ...).

Every admin page saves through these, or through its app's own service where the row has
rules of its own (policy rules, articles, tickets). The check they pass is the one admin
shows: the actor's model permission to add, change or delete that kind of row. Rows under
a legal hold are refused by the model-level guard (tickets.services.legal_holds).
"""

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from core.services.audit import delete_with_history, save_with_history

if TYPE_CHECKING:
    from core.models.user import User

_Record = TypeVar("_Record", bound=models.Model)


def require_model_permission(actor: "User", model: type[models.Model], *actions: str) -> None:
    """Raise PermissionDenied unless the actor may do one of `actions` ("add", "change",
    "delete") to rows of the model."""
    opts = model._meta
    if not any(actor.has_perm(f"{opts.app_label}.{get_permission_codename(action, opts)}")
               for action in actions):
        raise PermissionDenied(_("You may not do that."))


def record_save(*, record: _Record, actor: "User", reason: str) -> _Record:
    """Save a row added or changed by hand; its history row names the actor and the reason."""
    action = "add" if record._state.adding else "change"
    require_model_permission(actor, type(record), action)
    save_with_history(record, actor=actor, reason=reason)
    return record


def record_relations_set(*, record: models.Model, actor: "User",
                         relations: Mapping[str, Iterable[models.Model]]) -> None:
    """Set the many-to-many fields of a row edited by hand ({field name: related rows})."""
    if relations:  # set right after the row itself was added or changed
        require_model_permission(actor, type(record), "add", "change")
    for name, related in relations.items():
        getattr(record, name).set(related)


def record_delete(*, record: models.Model, actor: "User", reason: str = "admin:delete") -> None:
    """Delete a row by hand; its last history row names the actor and the reason."""
    require_model_permission(actor, type(record), "delete")
    delete_with_history(record, actor=actor, reason=reason)


def records_delete(*, records: QuerySet[models.Model], actor: "User") -> int:
    """Delete the chosen rows in one statement per table (admin's "delete selected")."""
    require_model_permission(actor, records.model, "delete")
    deleted, _per_model = records.delete()
    return deleted


def record_import(*, record: models.Model, is_create: bool, reason: str = "import") -> None:
    """Save a row read from an imported spreadsheet, with the reason "import".

    The import page has checked the importer's permission and every row's clean() already;
    a row classed as new is inserted, never written over an existing one.
    """
    # django-simple-history reads this instance attribute; no model declares it. The actor
    # is the importing user, whom simple_history's middleware names.
    history_context: Any = record
    history_context._change_reason = reason
    record.save(force_insert=is_create)
