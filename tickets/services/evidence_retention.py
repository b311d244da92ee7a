"""Evidence retention: deleting the evidence files of tickets closed before a cut-off.

Never for a ticket under a legal hold (its own or one on the same order). Each file's
Attachment row is deleted with history, so the audit trail keeps who ordered the deletion,
why, and what the file was (name, type, size, SHA-256). The stored object goes only once
that has committed: a purge that fails or is rolled back leaves every file in place. A
second run finds nothing left to do, with either storage.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import Storage
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models.user import User
from core.services.audit import delete_with_history
from core.services.exceptions import Conflict
from tickets.models import Attachment, TicketState
from tickets.selectors import active_holds

logger = logging.getLogger(__name__)

REASON_KEY = "evidence_retention"
# A ticket is done with once closed for good, or cancelled (its files moved on a merge).
FINISHED_STATES = (TicketState.CLOSED, TicketState.CANCELLED)


@dataclass
class EvidencePurge:
    deleted: int = 0
    held: int = 0  # files kept because their ticket is under a legal hold
    file_names: list[str] = field(default_factory=list)


def retention_cutoff(*, now: datetime | None = None) -> datetime | None:
    """The cut-off EVIDENCE_RETENTION_DAYS gives, or None when that is 0 (no period set)."""
    days = settings.EVIDENCE_RETENTION_DAYS
    return (now or timezone.now()) - timedelta(days=days) if days > 0 else None


def _under_hold() -> Q:
    holds = active_holds()
    return (Q(ticket_id__in=holds.values("ticket_id"))
            | Q(ticket__order_id__in=holds.filter(ticket__order_id__isnull=False)
                .values("ticket__order_id")))


def evidence_past_retention(*, before: datetime,
                            ticket_numbers: Iterable[str] | None = None) -> QuerySet[Attachment]:
    """Evidence of tickets closed or cancelled before `before`, holds not yet considered."""
    files = Attachment.objects.filter(ticket__state__in=FINISHED_STATES,
                                      ticket__closed_at__lt=before)
    if ticket_numbers is not None:
        files = files.filter(ticket__number__in=list(ticket_numbers))
    return files


def _delete_stored(storage: Storage, names: list[str]) -> None:
    # After the commit: a file that cannot be deleted now stays as an orphan object, which
    # is logged; its row is already gone, so nothing can serve it any more.
    for name in names:
        try:
            storage.delete(name)
        except Exception:
            logger.exception("evidence retention: could not delete stored file %s", name)


def evidence_purge(*, before: datetime, reason: str, actor: User | None = None,
                   ticket_numbers: Iterable[str] | None = None,
                   dry_run: bool = False) -> EvidencePurge:
    """Delete the evidence of tickets closed before `before`, skipping held tickets.

    With `ticket_numbers` the purge is about those tickets only, and a hold on any of them
    refuses it (Conflict) rather than being skipped: someone asked for that ticket by name.
    `actor` None records the system account.
    """
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the evidence files are deleted.")})
    if before > timezone.now():
        raise ValidationError({"before": _("The cut-off date is in the future.")})
    numbers = list(ticket_numbers) if ticket_numbers is not None else None
    result = EvidencePurge()
    with transaction.atomic():
        candidates = evidence_past_retention(before=before, ticket_numbers=numbers)
        held = candidates.filter(_under_hold())
        result.held = held.count()
        if numbers is not None and result.held:
            held_numbers = sorted(set(held.values_list("ticket__number", flat=True)))
            raise Conflict(_("Under a legal hold, its evidence is kept: %(tickets)s.")
                           % {"tickets": ", ".join(held_numbers)}, code="legal_hold")
        # Locked, so two purges at once cannot both delete (and record) the same file.
        doomed = list(candidates.exclude(_under_hold()).select_for_update(of=("self",))
                      .order_by("pk"))
        if dry_run:
            result.deleted = len(doomed)
            return result
        for attachment in doomed:
            result.file_names.append(str(attachment.file.name))
            delete_with_history(attachment, actor=actor, reason=f"{REASON_KEY} — {reason}")
        result.deleted = len(doomed)
        storage = Attachment._meta.get_field("file").storage
        names = list(result.file_names)
        transaction.on_commit(lambda: _delete_stored(storage, names))
    return result
