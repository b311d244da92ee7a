"""The ticket workspace: everything about one ticket, and every action an agent takes on it.

Each action calls one service. With htmx the answer is the refreshed workspace fragment
(the page stays where it is); without JavaScript it is a redirect back to the page.
"""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.forms import Form
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.db.prepared import prepared_statements
from core.models.roles import WORKING_ROLES
from core.views.common import require_working_role, run_service
from desk.selectors.workspace import (
    customer_earlier,
    customer_panel,
    queue_neighbours,
    ticket_get_for_workspace,
)
from desk.views.forms import (
    AuditFilterForm,
    EscalateForm,
    ReplyForm,
    ResolutionActionForm,
    TransitionForm,
)
from knowledge.models import ScriptScenario
from knowledge.selectors import can_read_knowledge, script_template_list, script_template_ranked
from knowledge.services import script_context_for_ticket, script_render
from policies.views.presentation import (
    explanation_parts,
    option_as_dict,
    sees_rule_details,
    what_would_change,
)
from resolutions import services as resolution_services
from resolutions.models import RESOLUTION_OPEN_STATES, Resolution
from routing.selectors import assignee_choices
from supervision.models.qa import QaReview
from supervision.selectors.audit_trail import RESOLUTION_ACTIONS, audit_trail, with_survey_and_qa
from supervision.selectors.privacy import with_contact_reveals
from tickets import services
from tickets.models import (
    OPEN_STATES,
    Collaborator,
    ComplaintLevel,
    Message,
    MessageKind,
    Ticket,
    can_work_on,
)
from tickets.selectors import (
    NewerReply,
    ticket_newer_reply,
    ticket_target_for_user,
    ticket_timeline_page,
    ticket_viewers,
    ticket_visible_to,
)

User = get_user_model()
def _resolution_cards(ticket: Ticket, user) -> list[dict]:
    """Return the ticket's resolutions with their explanations as this user reads them."""
    cards = []
    reviewer = sees_rule_details(user)
    for resolution in ticket.resolutions.all():
        names = resolution_services.resolution_available_transitions(resolution=resolution, user=user)
        cards.append({
            "resolution": resolution,
            "explanation": explanation_parts(resolution.explanation, reviewer=reviewer),
            "actions": [{"name": name, "label": RESOLUTION_ACTIONS[name],
                         "fields": resolution_services.RESOLUTION_TRANSITIONS[name]} for name in names],
        })
    return cards


def _options(ticket: Ticket, user) -> tuple[dict | None, tuple[int, int] | None]:
    """Return the policy panel for the ticket's order: its options, or why there are none.

    None when there is no panel to show: a closed ticket or no order. Otherwise the panel is
    always there: with the options, or with why no rule offers one and what evidence or fact
    would change that; who may not work on the ticket (QA, another team's agent) reads it
    without the buttons to propose. Also returns the customer's refunds and disputes of the
    last 90 days from the facts the engine decided on, so the customer panel need not count
    them again.
    """
    if ticket.state not in OPEN_STATES or not ticket.order_id:
        return None, None
    can_propose = can_work_on(ticket, user)
    item = ticket.order_item  # None without a query when the ticket names no item
    if item is not None and item.order_id == ticket.order_id and ticket.order is not None:
        item.order = ticket.order  # already loaded with the ticket
    decided = resolution_services.ticket_decision(ticket=ticket)
    if decided is None:  # an order without items: nothing to decide on, and the panel says so
        return {"options": [], "version": None, "no_item": True, "can_propose": can_propose}, None
    version, decision, facts, _item = decided
    open_kinds = {resolution.kind for resolution in ticket.resolutions.all()
                  if resolution.state in RESOLUTION_OPEN_STATES}
    reviewer = sees_rule_details(user)
    options = []
    for option in decision.options:
        shown = option_as_dict(option, reviewer=reviewer)
        shown["already_open"] = option.kind in open_kinds
        options.append(shown)
    panel = {"options": options, "version": version, "no_item": False,
             "reviewer": reviewer, "can_propose": can_propose}
    if not any(option["verdict"] != "deny" for option in options):
        # Nothing to propose: say why, and what would change it.
        panel.update(what_would_change(decision.trace))
    return panel, (facts.refunds_90d, facts.disputes_90d)


def _assignees(ticket: Ticket):
    """Who the assign drop-down offers: never empty while anyone works tickets."""
    return assignee_choices(team_id=ticket.team_id)


def workspace_context(request, ticket: Ticket, *, errors=None, forms=None) -> dict:
    user = request.user
    transitions = services.ticket_available_transitions(ticket=ticket, user=user)
    names = {spec.name for spec in transitions}
    policy, history = _options(ticket, user)
    forms = forms or {}
    can_work = can_work_on(ticket, user)
    # The latest messages only; earlier ones load on demand (timeline view).
    timeline_page = ticket_timeline_page(ticket=ticket)
    # The reply form carries the latest message the agent has on screen (see reply()).
    latest_message_id = max((item["message"]["id"] for item in timeline_page.items
                             if item["type"] == "message"), default=0)
    context = {
        "ticket": ticket,
        "panel": customer_panel(ticket=ticket, history=history),
        "timeline": timeline_page.items,
        "timeline_earlier": timeline_page.earlier,
        "transitions": transitions,
        "can_work": can_work,
        "can_change_customer": user.has_perm("shop.change_customer"),
        "can_reply": can_work and ticket.state in (*OPEN_STATES, "resolved"),
        "can_escalate": (can_work and ticket.state in OPEN_STATES
                         and user.has_perm("tickets.escalate_ticket")),
        "policy": policy,
        "options": policy["options"] if policy else [],
        "ruleset_version": policy["version"] if policy else None,
        "cards": _resolution_cards(ticket, user),
        "reply_form": forms.get("reply") or ReplyForm(),
        "latest_message_id": latest_message_id,
        "escalate_form": forms.get("escalate") or EscalateForm(),
        "assignees": list(_assignees(ticket)) if "assign" in names else [],
        "collaborators": Collaborator.choices,
        "escalation_levels": [c for c in ComplaintLevel.choices if c[0] != ComplaintLevel.NONE],
        "errors": errors or [],
        "nav_active": "queues",
    }
    context.update(_knowledge_context(ticket, user, can_work=context["can_reply"]))
    return context


SCRIPT_PICKER_LIMIT = 40


def _knowledge_context(ticket: Ticket, user, *, can_work: bool) -> dict:
    """Return which knowledge-base panels the workspace shows.

    Both load on their own with htmx, so neither holds up the workspace: the suggestions
    (knowledge:suggestions, a search over the articles) and, for who may reply, the script
    picker (scripts).
    """

    return {"show_suggestions": can_read_knowledge(user), "show_script_picker": can_work}


def _script_templates(ticket: Ticket, user) -> list:
    """Return the script templates for this ticket's channel, each filled for the ticket.

    Those that fit the ticket come first: for a resolution proposed or under way, then for
    its category (knowledge.selectors.script_template_ranked ranks them in the query).

    Each template comes filled (customer name, order number, deadline, agent name) as plain
    text; picking one puts that text into the reply box, where the agent may still edit it.
    A use is counted when the reply is sent.
    """

    values = script_context_for_ticket(ticket=ticket, agent=user)
    # Resolutions come with the ticket (ticket_get_for_workspace): no query here.
    open_kinds = sorted({resolution.kind for resolution in ticket.resolutions.all()
                         if resolution.state in RESOLUTION_OPEN_STATES})
    templates = list(script_template_ranked(
        user=user, language=get_language(), channel=ticket.channel, category=ticket.category,
        resolution_kinds=open_kinds)[:SCRIPT_PICKER_LIMIT])
    scenarios = {value: str(label) for value, label in ScriptScenario.choices}
    for template in templates:
        template.filled = script_render(template=template, context=values)
        template.scenario_label = scenarios.get(template.scenario, template.scenario)
    return templates


def _respond(request, number: str, *, errors=None, forms=None, success: str = ""):
    """Answer an action: the refreshed workspace fragment (htmx) or a redirect to the page."""
    if not request.htmx:
        for error in errors or []:
            messages.error(request, error)
        if success and not errors:
            messages.success(request, success)
        return redirect("console-ticket", number=number)
    try:
        ticket = ticket_get_for_workspace(user=request.user, number=number)
    except Http404:  # moved out of the user's sight (escalated away): back to the queue
        response = render(request, "desk/console/_moved.html", {"number": number})
        response["HX-Redirect"] = reverse("console-queue", args=["mine"])
        return response
    context = workspace_context(request, ticket, errors=errors, forms=forms)
    context["success"] = "" if errors else success
    return render(request, "desk/console/_workspace.html", context)


def _refuse(request, ticket: Ticket, error) -> HttpResponse:
    """Answer a request the page would never send with 400: the workspace and the error.

    Who may not work on the ticket learns nothing more about the request: 403 first.
    """
    if not can_work_on(ticket, request.user):
        raise PermissionDenied
    template = "desk/console/_workspace.html" if request.htmx else "desk/console/workspace.html"
    return render(request, template, workspace_context(request, ticket, errors=[str(error)]),
                  status=400)


def _ticket_for_action(request, number: str) -> Ticket:
    require_working_role(request.user)
    return ticket_get_for_workspace(user=request.user, number=number)


@require_GET
def workspace(request, number: str):
    """Show the ticket workspace.

    Opened from a queue (`?queue=KEY`), it links the queue's previous and next tickets
    (the j/k keys); those links carry the queue on.
    """
    # The ticket's reads are by key (the ticket and its rows, the customer's, the order's):
    # prepared, they skip planning, most of their database time. Not the queue's neighbours
    # nor the top bar's counts: their best plans use partial indexes that only the values
    # can match (core.db.prepared).
    with prepared_statements():
        ticket = ticket_get_for_workspace(user=request.user, number=number)
        context = workspace_context(request, ticket)
    queue = request.GET.get("queue", "")
    if queue and request.user.has_role(*WORKING_ROLES):
        context["neighbours"] = queue_neighbours(user=request.user, queue=queue, ticket=ticket)
    return render(request, "desk/console/workspace.html", context)


@require_POST
def presence(request, number: str):
    """Say the user has the ticket open, and show who else has (polled by the workspace).

    A light lookup of the ticket as the user: this answers every 20 seconds per open page.
    """
    require_working_role(request.user)
    ticket = ticket_visible_to(request.user).filter(number=number).only("pk", "number").first()
    if ticket is None:
        raise Http404(number)
    services.presence_touch(ticket=ticket, user=request.user)
    return render(request, "desk/console/_presence.html",
                  {"ticket": ticket, "viewers": ticket_viewers(ticket=ticket,
                                                               exclude_user=request.user)})


@require_GET
def timeline(request, number: str):
    """Show the timeline's page before message `before`: "load earlier messages"."""
    ticket = ticket_get_for_workspace(user=request.user, number=number)
    before = request.GET.get("before", "")
    if not before.isdecimal() or not (0 < int(before) < 2**63):
        return HttpResponseBadRequest(_("Say which message the page ends before."))
    page = ticket_timeline_page(ticket=ticket, before=int(before))
    template = ("desk/console/_timeline_page.html" if request.htmx
                else "desk/console/timeline_page.html")
    return render(request, template, {"ticket": ticket, "timeline": page.items,
                                      "timeline_earlier": page.earlier, "nav_active": "queues"})


@require_GET
def scripts(request, number: str):
    """Show the script picker of the reply box, its templates filled for the ticket."""
    ticket = ticket_get_for_workspace(user=request.user, number=number)
    if not (can_work_on(ticket, request.user) and ticket.state in (*OPEN_STATES, "resolved")):
        raise PermissionDenied
    return render(request, "desk/console/_script_picker.html",
                  {"ticket": ticket, "script_templates": _script_templates(ticket, request.user)})


@require_GET
def customer_history(request, number: str):
    """Show the customer's earlier tickets and refunds (opened from the customer panel)."""
    ticket = ticket_get_for_workspace(user=request.user, number=number)
    earlier_tickets, earlier_refunds = customer_earlier(ticket=ticket)
    return render(request, "desk/console/_customer_earlier.html",
                  {"ticket": ticket, "earlier_tickets": earlier_tickets,
                   "earlier_refunds": earlier_refunds})


def _form_error_texts(form: Form) -> list[str]:
    """Return every error text of the form (an ErrorList gives its messages as text)."""
    return [str(error) for field_errors in form.errors.values() for error in field_errors]


@require_POST
def reply(request, number: str):
    """Add a reply to the customer or an internal note; optionally set the status after it.

    A reply to the customer is held back, not sent, when a colleague replied or the customer
    wrote after the latest message on the agent's screen (the form's `seen`): the form comes
    back with the text kept and a warning naming who wrote and when; sending it again
    (`confirm`) sends it anyway.
    """
    ticket = _ticket_for_action(request, number)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        errors = _form_error_texts(form)
        return _respond(request, number, errors=errors, forms={"reply": form})
    data = form.cleaned_data
    if data["kind"] == MessageKind.REPLY and data["seen"] is not None and not data["confirm"]:
        newer = ticket_newer_reply(ticket=ticket, after_id=data["seen"], user=request.user)
        if newer is not None:
            return _hold_back_reply(request, ticket, form, newer)
    _message, errors = run_service(lambda: services.message_add(
        ticket=ticket, actor=request.user, kind=data["kind"], body=data["body"]))
    if not errors and data.get("script_template"):
        _record_script_use(ticket, request.user, data["script_template"])
    done = {MessageKind.REPLY: _("Reply sent."),
            MessageKind.PHONE_SUMMARY: _("Phone call summary added.")}.get(
                data["kind"], _("Note added."))
    if not errors and data["then"]:
        errors = _set_status_after_reply(request, number, data)
    return _respond(request, number, errors=errors, forms={"reply": form} if errors else None,
                    success=done)


def _set_status_after_reply(request, number: str, data: dict) -> list[str]:
    """Take the "send and set status" transition once the reply is out; return its errors.

    The reply stays sent when the transition is refused (the ticket may have an open
    resolution, say); the agent sees why. The ticket is read again: the reply may have
    moved it on (a first reply starts the work).
    """
    ticket = ticket_get_for_workspace(user=request.user, number=number)
    _ticket, errors = run_service(lambda: services.ticket_transition(
        ticket=ticket, actor=request.user, name=data["then"],
        summary=data["body"][:RESOLUTION_SUMMARY_FROM_REPLY]))
    return [_("The reply was sent, but the status was not changed: %(why)s") % {"why": error}
            for error in errors]


# A reply that resolves the ticket is its resolution summary, cut to this length.
RESOLUTION_SUMMARY_FROM_REPLY = 2000


def _hold_back_reply(request, ticket: Ticket, form: ReplyForm, newer: NewerReply):
    """Answer a reply held back because someone wrote meanwhile: the workspace with the
    newer message in its timeline, the agent's text kept and the warning above it."""
    context = workspace_context(request, ticket, forms={"reply": form})
    context["newer_reply"] = newer
    template = ("desk/console/_workspace.html" if request.htmx
                else "desk/console/workspace.html")
    return render(request, template, context)


def _record_script_use(ticket: Ticket, user, template_id: int) -> None:
    """Count the script template the reply started from (once per reply)."""

    template = script_template_list(user=user).filter(pk=template_id).first()
    if template is not None:
        script_render(template=template, user=user,
                      context=script_context_for_ticket(ticket=ticket, agent=user))


# gettext_lazy: the message is put into the language of each request.
_NO_CANCEL_REASON = gettext_lazy(
    "Choose why the ticket is cancelled (withdrawn by the customer, spam or a duplicate); "
    "nothing was changed.")


@require_POST
def transition(request, number: str):
    """Take one of the ticket's transitions with its inputs."""
    ticket = _ticket_for_action(request, number)
    form = TransitionForm(request.POST, assignees=_assignees(ticket))
    if not form.is_valid():
        if request.POST.get("name") == "cancel" and "reason" in form.errors:
            return _refuse(request, ticket, _NO_CANCEL_REASON)
        errors = _form_error_texts(form)
        return _respond(request, number, errors=errors)
    data = form.cleaned_data
    params = {}
    name = data["name"]
    if name == "assign":
        params["assignee"] = data["assignee"]
    elif name == "wait_for_internal":
        params["waiting_on"] = data["waiting_on"]
    elif name == "resolve":
        params["summary"] = data["summary"]
    elif name == "cancel":
        if not data["reason"]:
            # The form preselects no reason: a cancel without one is refused, not guessed.
            return _refuse(request, ticket, _NO_CANCEL_REASON)
        params["reason"] = data["reason"]
        if data["merged_into"]:
            into, errors = run_service(lambda: ticket_target_for_user(
                user=request.user, number=data["merged_into"], field_name="merged_into"))
            if errors:
                return _respond(request, number, errors=errors)
            params["merged_into"] = into
    _ticket, errors = run_service(lambda: services.ticket_transition(
        ticket=ticket, actor=request.user, name=name, comment=data["comment"], **params))
    label = services.TRANSITIONS[name].label if name in services.TRANSITIONS else name
    return _respond(request, number, errors=errors,
                    success=_("Done: %(action)s.") % {"action": label})


@require_POST
def escalate(request, number: str):
    """Raise the complaint level; the ticket may move to another team."""
    ticket = _ticket_for_action(request, number)
    form = EscalateForm(request.POST)
    if not form.is_valid():
        errors = _form_error_texts(form)
        return _respond(request, number, errors=errors, forms={"escalate": form})
    _ticket, errors = run_service(lambda: services.ticket_escalate(
        ticket=ticket, actor=request.user, level=form.cleaned_data["level"],
        reason=form.cleaned_data["reason"]))
    return _respond(request, number, errors=errors, success=_("Escalated."))


@require_POST
def adopt_reported(request, number: str):
    """Take the contact the caller reported into the customer record (change_customer)."""
    ticket = _ticket_for_action(request, number)
    _customer, errors = run_service(lambda: services.customer_adopt_reported(
        ticket=ticket, actor=request.user, reason=request.POST.get("reason", "")))
    return _respond(request, number, errors=errors,
                    success=_("The customer record now has the reported contact."))


@require_POST
def propose(request, number: str):
    """Propose one of the policy engine's options: it becomes a resolution card."""
    ticket = _ticket_for_action(request, number)
    kind = request.POST.get("kind", "")
    _resolution, errors = run_service(lambda: resolution_services.resolution_propose(
        ticket=ticket, actor=request.user, kind=kind))
    return _respond(request, number, errors=errors, success=_("Resolution proposed."))


@require_POST
def resolution_action(request, number: str, pk: int):
    """Take one of a resolution's actions (agree, approve, reject, return, pay out, ...)."""
    ticket = _ticket_for_action(request, number)
    resolution = next((r for r in ticket.resolutions.all() if r.pk == pk), None)
    if resolution is None:
        raise Http404(pk)
    form = ResolutionActionForm(request.POST)
    if not form.is_valid():
        errors = _form_error_texts(form)
        return _respond(request, number, errors=errors)
    data = form.cleaned_data
    name = data["name"]
    if name not in resolution_services.RESOLUTION_TRANSITIONS:
        return _respond(request, number, errors=[_("Unknown action.")])
    params = {field: data.get(field, "") for field in resolution_services.RESOLUTION_TRANSITIONS[name]}
    _resolution, errors = run_service(lambda: resolution_services.resolution_transition(
        resolution=resolution, actor=request.user, name=name, **params))
    return _respond(request, number, errors=errors,
                    success=_("Done: %(action)s.") % {"action": RESOLUTION_ACTIONS[name]})


@require_GET
def audit(request, number: str):
    """Show the ticket's audit trail, filtered by acting user and date range (a fragment)."""
    ticket = ticket_get_for_workspace(user=request.user, number=number)
    actors = User.objects.filter(pk__in=list(_actor_ids(ticket))).order_by("username")
    form = AuditFilterForm(request.GET or None, actors=actors)
    user = since = until = None
    if form.is_valid():
        user = form.cleaned_data.get("actor")
        since, until = form.bounds()
    entries: list[dict] = audit_trail(ticket=ticket, user=user, since=since, until=until)
    entries = with_survey_and_qa(entries, viewer=request.user, ticket=ticket, user=user,
                                 since=since, until=until)
    entries = with_contact_reveals(entries, viewer=request.user, ticket=ticket, user=user,
                                   since=since, until=until)
    template = ("desk/console/_audit_trail.html" if request.htmx
                else "desk/console/audit_page.html")
    return render(request, template, {"ticket": ticket, "entries": entries, "form": form,
                                      "nav_active": "queues"})


def _actor_ids(ticket: Ticket):
    """Return the ids of everyone who changed the ticket, its messages, resolutions or QA
    reviews."""

    def ids(history_model, **lookup):
        return history_model.objects.filter(history_user__isnull=False, **lookup).order_by(
            ).values_list("history_user", flat=True)

    return ids(Ticket.history.model, id=ticket.pk).union(
        ids(Resolution.history.model, ticket_id=ticket.pk),
        ids(Message.history.model, ticket_id=ticket.pk),
        ids(QaReview.history.model, ticket_id=ticket.pk),
    )
