"""The queues: lists of open tickets with filters, sorting and capped paging; claim next; bulk."""

from functools import partial

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.db.prepared import prepared_statements
from core.models.labels import pick_label
from core.models.roles import Role
from core.views.common import error_texts, require_working_role, run_service
from desk.views.forms import BulkForm, QueueFilterForm, ticket_numbers, working_user_choices
from routing import services as routing_services
from tickets import services
from tickets.models import Tag
from tickets.selectors import QUEUES, queue_counts, ticket_queue_page, ticket_visible_to


def _is_supervisor(user) -> bool:
    return user.has_role(Role.SUPERVISOR)


@require_GET
def queue(request, key: str = "mine"):
    """Show one queue: filters, sort, a page of rows with SLA badges, claim next, bulk."""
    require_working_role(request.user)
    form = QueueFilterForm(request.GET or None)
    filters = dict(form.cleaned_data) if form.is_valid() else {}
    with prepared_statements():  # every tag, on every queue page (core.db.prepared)
        tags = {name: (pk, pick_label(name, label_zh))
                for name, pk, label_zh in Tag.objects.values_list("name", "id", "label_zh")}
    if filters.get("tag"):
        # An unknown tag matches nothing; without this the database would look at every row.
        filters["tag_id"] = tags.get(filters["tag"], (0, ""))[0]
    page = ticket_queue_page(user=request.user, queue=key, filters=filters,
                             sort=filters.get("sort") or "", page=filters.get("page") or 1)
    kept = {name: value for name, value in request.GET.items() if name != "page" and value}
    context = {
        "queues": QUEUES.values(),
        "queue_key": key,
        "form": form,
        "page": page,
        "query": urlencode(kept),
        "tags": sorted((name, label) for name, (_pk, label) in tags.items()),
        "is_supervisor": _is_supervisor(request.user),
        "nav_active": "queues",
    }
    if context["is_supervisor"]:
        context["bulk_form"] = BulkForm()
        context["assignee_choices"] = working_user_choices()
    return render(request, "desk/console/queue.html", context)


@require_GET
def counts(request):
    """Every queue tab's count (capped), swapped into the tabs after the page has drawn.

    Counted in one query whatever the filters of the page. Asked for separately so the queue
    page itself costs what it did before the tabs had counts: compiling and planning the
    eight capped counts takes longer than reading the page's rows.
    """
    require_working_role(request.user)
    return render(request, "desk/console/_queue_counts.html", {
        "keys": list(QUEUES), "counts": queue_counts(user=request.user)})


@require_POST
def claim_next(request):
    """Give the agent the next ticket of their teams and open it."""
    require_working_role(request.user)
    ticket, errors = run_service(lambda: routing_services.ticket_claim_next(actor=request.user))
    if ticket is None:
        messages.info(request, errors[0] if errors else
                      _("Nothing to claim: your teams' queues have no unassigned ticket."))
        url = reverse("console-queue", args=["unassigned"])
    else:
        messages.success(request, _("You claimed %(number)s.") % {"number": ticket.number})
        url = reverse("console-ticket", args=[ticket.number])
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@require_POST
def bulk(request):
    """Reassign or re-prioritise the ticked tickets (supervisors); each change is audited."""
    if not _is_supervisor(request.user):
        raise PermissionDenied(_("Only supervisors change many tickets at once."))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        back = reverse("console-queue", args=["team"])
    form = BulkForm(request.POST)
    try:
        numbers = ticket_numbers(request.POST.getlist("ticket"))
    except ValidationError as error:
        messages.error(request, error_texts(error)[0])
        return redirect(back)
    if not form.is_valid():
        for field_errors in form.errors.values():
            messages.error(request, str(field_errors[0]))  # an ErrorList gives its texts
        return redirect(back)
    data = form.cleaned_data
    tickets = list(ticket_visible_to(request.user).filter(number__in=numbers)
                   .select_related("team"))
    done, failed = 0, []
    for ticket in tickets:
        if data["action"] == "reassign":
            _result, errors = run_service(partial(
                services.ticket_assign, ticket=ticket, actor=request.user,
                assignee=data["assignee"], comment=data.get("reason") or "bulk"))
        else:
            _result, errors = run_service(partial(
                services.ticket_change_priority, ticket=ticket, actor=request.user,
                priority=data["priority"], reason=data["reason"]))
        if errors:
            failed.append(f"{ticket.number}: {errors[0]}")
        else:
            done += 1
    if done:
        messages.success(request, _("%(count)s tickets changed.") % {"count": done})
    for line in failed:
        messages.error(request, line)
    return redirect(back)
