"""Evidence downloads: the only way a stored file leaves the console, after the ticket's
read check (the caller's), streamed from storage with the type checked at upload."""

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from core.views.common import require_working_role
from tickets.models import Attachment
from tickets.selectors import ticket_get_for_user
from tickets.services.evidence_files import open_stream


def evidence_response(attachment: Attachment) -> FileResponse:
    """Stream the attachment's bytes as a download named by its original file name."""
    try:
        stream = open_stream(attachment.file.storage, attachment.file.name or "")
    except FileNotFoundError:
        raise Http404(attachment.pk) from None  # deleted under retention, or lost
    response = FileResponse(stream, content_type=attachment.content_type,
                            as_attachment=True, filename=attachment.label)
    if "Content-Length" not in response:  # an object stream cannot say its own length
        response["Content-Length"] = str(attachment.size)
    # Browsers must not second-guess the type that was checked by content at upload.
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
def download(request, number: str, pk: int):
    """Download an evidence file of a ticket the user may read (404 otherwise)."""
    require_working_role(request.user)  # like every console page: QA reads through the API
    ticket = ticket_get_for_user(user=request.user, number=number)
    return evidence_response(get_object_or_404(ticket.attachments, pk=pk))
