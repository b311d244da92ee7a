"""Evidence files: type checked by content, size capped, stored under a generated name."""

import hashlib
import re
import unicodedata

import filetype
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from core.models.user import User
from core.services.audit import save_with_history
from core.services.exceptions import Conflict
from core.services.uploads import is_unsafe_file_name
from tickets.models import OPEN_STATES, Attachment, EvidenceKind, Message, Ticket, TicketState
from tickets.services.tickets import _require_can_work

# What the content must be, and the file-name extensions that may claim it.
ALLOWED_TYPES = {
    "image/jpeg": ("jpg", {"jpg", "jpeg"}),
    "image/png": ("png", {"png"}),
    "image/webp": ("webp", {"webp"}),
    "application/pdf": ("pdf", {"pdf"}),
    "video/mp4": ("mp4", {"mp4", "m4v"}),
}
MAX_LABEL = 120


def clean_label(name: str | None) -> str:
    """Return a display label for an uploaded file name, or refuse a name that is a path."""
    name = unicodedata.normalize("NFC", name or "").strip()
    if is_unsafe_file_name(name) or name.startswith("."):
        raise ValidationError(
            {"file": _("The file name “%(name)s” is not allowed: use a plain name without "
                       "folders.") % {"name": name[:60]}}
        )
    name = re.sub(r"[<>:\"|?*]", "_", name)
    name = re.sub(r"\s+", " ", name)
    if len(name) > MAX_LABEL:
        stem, dot, extension = name.rpartition(".")
        name = (stem[: MAX_LABEL - len(extension) - 1] + dot + extension) if dot else name[:MAX_LABEL]
    return name


def detect_type(upload: UploadedFile, label: str) -> tuple[str, str]:
    """Return (content type, extension) from the file's bytes; refuse what is not allowed."""
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    kind = filetype.guess(head)
    allowed = ", ".join(sorted({extension for extension, _ in ALLOWED_TYPES.values()}))
    if kind is None or kind.mime not in ALLOWED_TYPES:
        raise ValidationError(
            {"file": _("This file type is not accepted. Allowed: %(types)s.") % {"types": allowed}}
        )
    extension, claimed_ok = ALLOWED_TYPES[kind.mime]
    claimed = label.rsplit(".", 1)[-1].lower() if "." in label else ""
    if claimed and claimed not in claimed_ok:
        raise ValidationError(
            {"file": _("The file is named .%(claimed)s but its content is %(actual)s.")
             % {"claimed": claimed, "actual": extension}}
        )
    return kind.mime, extension


def attachment_add(
    *, ticket: Ticket, actor: User, upload: UploadedFile, evidence_kind: str,
    message: Message | None = None,
) -> Attachment:
    """Check and store an evidence file on the ticket; nothing is stored if a check fails."""
    if ticket.state not in OPEN_STATES and ticket.state != TicketState.RESOLVED:
        raise Conflict(_("The ticket is %(state)s; evidence can no longer be added.")
                       % {"state": ticket.get_state_display()}, code="not_open")
    if not actor.has_perm("tickets.add_attachment"):
        raise PermissionDenied(_("You may not add evidence."))
    # A channel integration passes on the customer's photos and videos with their messages;
    # it works no ticket, staff need the right to work this one.
    if not actor.has_perm("tickets.record_inbound_message"):
        _require_can_work(ticket, actor)
    if evidence_kind not in EvidenceKind.values:
        raise ValidationError({"evidence_kind": _("Choose what kind of evidence this is.")})
    if message is not None and message.ticket_id != ticket.pk:
        raise ValidationError({"message": _("The message belongs to another ticket.")})
    size = upload.size
    assert size is not None  # an uploaded file (not a stream) always knows its size
    if size > settings.ATTACHMENT_MAX_BYTES:
        raise ValidationError(
            {"file": _("The file is %(size)s; the limit is %(limit)s.")
             % {"size": filesizeformat(size),
                "limit": filesizeformat(settings.ATTACHMENT_MAX_BYTES)}}
        )
    label = clean_label(upload.name)
    content_type, extension = detect_type(upload, label)

    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    # The stored name is generated (see attachment_path); only its extension comes from
    # the detected content.
    upload.name = f"upload.{extension}"
    attachment = Attachment(
        ticket=ticket, message=message, evidence_kind=evidence_kind, label=label,
        content_type=content_type, size=size, sha256=digest.hexdigest(),
        uploaded_by=actor,
    )
    try:
        with transaction.atomic():
            attachment.file.save(upload.name, upload, save=False)
            save_with_history(attachment, actor=actor, reason=f"attach:{evidence_kind}")
    except Exception:
        if attachment.file.name:
            attachment.file.storage.delete(attachment.file.name)
        raise
    return attachment
