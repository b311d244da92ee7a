"""The approvals inbox: what waits for the user's approval, approved or rejected from the list.

Approving and rejecting call the same service as the resolution card in the workspace
(`resolution_transition`), so the role, the limit and maker-checker are checked there; the
inbox only shows what would pass. A rejection needs its reason, an approval may carry a note;
both go into the resolution's history.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.views.common import run_service
from desk.selectors.approvals import approval_inbox, has_approval_rights
from desk.views.forms import ResolutionActionForm
from resolutions import services as resolution_services
from resolutions.models import Resolution
from tickets.selectors import ticket_visible_to

# What may be done from the inbox; everything else happens in the ticket's workspace.
INBOX_ACTIONS = {"approve": "comment", "reject": "reason"}


def _require_approver(user) -> None:
    if not has_approval_rights(user):
        raise PermissionDenied(_("Only people who approve resolutions or policy changes have "
                                 "an approvals inbox."))


def _render_inbox(request, *, errors=(), failed_pk: int | None = None, status: int = 200):
    return render(request, "desk/console/approvals.html", {
        "inbox": approval_inbox(request.user), "errors": list(errors),
        "failed_pk": failed_pk, "nav_active": "approvals",
    }, status=status)


@require_GET
def inbox(request):
    """Show what waits for the user's approval, oldest first."""
    _require_approver(request.user)
    return _render_inbox(request)


@require_POST
def decide(request, pk: int):
    """Approve (with an optional note) or reject (with its reason) a resolution from the inbox."""
    _require_approver(request.user)
    resolution = (Resolution.objects.select_related("ticket")
                  .filter(pk=pk, ticket__in=ticket_visible_to(request.user).values("pk"))
                  .first())
    if resolution is None:
        raise Http404(pk)
    form = ResolutionActionForm(request.POST)
    if not form.is_valid() or form.cleaned_data["name"] not in INBOX_ACTIONS:
        return _render_inbox(request, errors=[_("Unknown action.")], failed_pk=pk, status=400)
    name = form.cleaned_data["name"]
    field = INBOX_ACTIONS[name]
    _done, errors = run_service(lambda: resolution_services.resolution_transition(
        resolution=resolution, actor=request.user, name=name,
        **{field: form.cleaned_data.get(field, "")}))
    if errors:
        return _render_inbox(request, errors=errors, failed_pk=pk, status=400)
    done = (_("Ticket %(number)s: the resolution is approved.") if name == "approve"
            else _("Ticket %(number)s: the resolution is rejected."))
    messages.success(request, done % {"number": resolution.ticket.number})
    return redirect("console-approvals")
