"""Reads of the contact reveal log, for the people who audit it (QA, risk/legal, supervisors)."""

from django.utils.translation import gettext as _

from supervision.models.privacy import ContactReveal
from tickets.models import Ticket

REVEAL_LOG_PERMISSION = "supervision.view_contactreveal"


def contact_reveal_entries(*, ticket: Ticket, user=None, since=None, until=None) -> list[dict]:
    """Return the ticket's contact reveals as audit-trail entries, oldest first (one query).

    Same shape and filters as `supervision.selectors.audit_trail.audit_trail`, so the two lists merge.
    """
    reveals = ContactReveal.objects.filter(ticket=ticket).select_related(
        "revealed_by", "customer").order_by("revealed_at", "id")
    if user is not None:
        reveals = reveals.filter(revealed_by=user)
    if since is not None:
        reveals = reveals.filter(revealed_at__gte=since)
    if until is not None:
        reveals = reveals.filter(revealed_at__lte=until)
    return [{
        "key": f"contact_reveal:{reveal.pk}",
        "at": reveal.revealed_at,
        "actor": reveal.revealed_by,
        "actor_name": str(reveal.revealed_by),
        "actor_id": reveal.revealed_by_id,
        "subject": "contact_reveal",
        "subject_label": _("Contact details"),
        "object_id": reveal.pk,
        "title": reveal.customer.name,
        "type": "created",
        "reason": "contact_reveal",
        "action": _("Full phone number shown"),
        "comment": reveal.reason,
        "changes": [],
    } for reveal in reveals]


def with_contact_reveals(entries: list[dict], *, viewer, ticket: Ticket, **filters) -> list[dict]:
    """Add the ticket's contact reveals to its audit trail where the viewer may read the log."""
    if not viewer.has_perm(REVEAL_LOG_PERMISSION):
        return entries
    merged = entries + contact_reveal_entries(ticket=ticket, **filters)
    # The same list type back: an AuditTrail keeps its chain verification for the page.
    result = type(entries)(sorted(merged, key=lambda entry: entry["at"]))
    if hasattr(entries, "verification"):
        result.verification = entries.verification  # type: ignore[attr-defined]
    return result
