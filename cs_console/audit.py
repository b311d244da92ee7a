"""Saving audited models so every history row says who changed what, and why."""

from django.db import models


def save_with_history(obj: models.Model, *, actor, reason: str, update_fields=None) -> None:
    """Save obj so its history row records the acting user and a stable reason key.

    `actor` is None for the system (sweeps, tasks). `reason` is a stable key such as
    "transition:resolve" or "escalate:L2", translated only when shown.
    """
    obj._history_user = actor
    obj._change_reason = reason
    obj.save(update_fields=update_fields)
