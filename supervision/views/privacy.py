"""Showing one customer's full phone number from the ticket workspace, with a logged reason.

The number is only ever in this response: the workspace and every other page keep it masked.
"""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core.views.common import error_texts, require_working_role
from supervision.services import privacy
from tickets.selectors import ticket_visible_to


@never_cache
@require_POST
def reveal_contact(request, number: str):
    """Reveal the ticket's customer's contact details (htmx: the contact fragment)."""
    require_working_role(request.user)
    ticket = get_object_or_404(ticket_visible_to(request.user).select_related("customer"),
                               number=number)
    reason = request.POST.get("reason", "")
    revealed, errors = None, []
    try:
        revealed = privacy.customer_contact_reveal(
            actor=request.user, customer=ticket.customer, reason=reason, ticket=ticket)
    except ValidationError as error:
        errors = error_texts(error)
    context = {"ticket": ticket, "revealed": revealed, "reveal_errors": errors,
               "reveal_reason": reason}
    if request.htmx:
        # The console answers htmx with a fragment that shows the error in place.
        return render(request, "supervision/_customer_contact.html", context)
    return render(request, "supervision/contact_revealed.html", context,
                  status=400 if errors else 200)
