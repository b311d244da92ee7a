"""A new ticket from a phone call: find the caller and the order, choose the type template.

The agent on the call keeps the ticket when routing says they may work it. When it would go
to a team they do not work in, the page asks them first to hand it to that team, by name;
nothing is saved before they confirm. After saving, an agent who may not read the ticket
lands back here, told where it went, never on a page that refuses them.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Prefetch, Q
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core.views.common import rate_limited, require_working_role, run_service
from desk.selectors.intake import OpenOnOrder, open_tickets_on_order
from desk.views.forms import REQUIRED_MESSAGES, TYPE_TEMPLATES, PhoneIntakeForm
from routing.services import assignment as routing
from shop.models import Customer, Order
from tickets import services
from tickets.models import Channel, Team, TicketType
from tickets.selectors import ticket_visible_to
from tickets.services.intake import customer_match_or_create

SEARCH_LIMIT = 8
ORDERS_PER_CUSTOMER = 5


def _require_intake(user) -> None:
    require_working_role(user)
    if not user.has_perm("tickets.add_ticket"):
        raise PermissionDenied(_("You may not open tickets."))


def _create(request, data):
    with transaction.atomic():
        customer = data["customer"]
        reported: dict[str, str] = {}
        if customer is None:
            customer, reported = customer_match_or_create(
                actor=request.user, external_id=data["external_id"].strip(),
                name=data["name"].strip(), phone=data["phone"].strip())
        return services.ticket_create(
            actor=request.user, channel=Channel.PHONE, customer=customer,
            order=data["order"], subject=data["subject"], description=data["description"],
            ticket_type=data["ticket_type"], category=data["category"],
            request_reason=data["request_reason"], item_condition=data["item_condition"],
            requested_resolution=data["requested_resolution"],
            claims_statutory=data["claims_statutory"],
            reported_contact=reported,
            keep_if_workable=True,
        )


def _destination(request, data) -> routing.Plan:
    """Where routing would send the call and whether the agent keeps it; writes nothing.

    The same decision ticket creation takes (routing.services.assignment.plan), on the
    configuration in memory: the team, after any fallback from a team nobody works in.
    """
    customer = data["customer"]
    tier = customer.tier if customer is not None else ""
    routed = routing.route(
        subject=data["subject"], description=data["description"],
        category=data["category"], channel=Channel.PHONE, tier=tier or "normal",
        priority=2, request_reason=data["request_reason"])
    return routing.plan(team=routed.team, skill=routed.skill, taken_by=request.user,
                        pick=False, config=routed.config)


def _opened(request, ticket):
    """Send the agent to the ticket when they may read it, else back here, told where it went."""
    if ticket.assignee_id == request.user.pk or ticket_visible_to(request.user).filter(
            pk=ticket.pk).exists():
        messages.success(request, _("Ticket %(number)s opened.") % {"number": ticket.number})
        return redirect("console-ticket", number=ticket.number)
    messages.success(request, _("Ticket %(number)s opened and handed to %(team)s, who will "
                                "take it from here.")
                     % {"number": ticket.number, "team": ticket.team or _("no team")})
    return redirect("console-new-ticket")


def phone_intake(request):
    """Open a ticket for a caller; the type template decides which fields are required."""
    _require_intake(request.user)
    form = PhoneIntakeForm(request.POST or None)
    errors: list[str] = []
    open_on_order = OpenOnOrder()
    hand_over: Team | None = None
    if request.method == "POST" and form.is_valid():
        # A call about an order with open tickets is most often about one of them: say so
        # before opening another, unless the agent has seen that and opens a new one anyway.
        if request.POST.get("open_new") != "1":
            open_on_order = open_tickets_on_order(user=request.user,
                                                  order=form.cleaned_data["order"])
        ticket = None
        if not open_on_order:
            # A call the agent may not work goes to another team only once they agree, to
            # the very team they were shown (routing may have changed in between).
            destination = _destination(request, form.cleaned_data)
            team = destination.team
            if destination.agent is None and team is not None and \
                    request.POST.get("hand_over") != team.code:
                hand_over = team
            else:
                ticket, errors = run_service(lambda: _create(request, form.cleaned_data))
        if ticket is not None:
            return _opened(request, ticket)
    chosen = form.cleaned_data.get("customer") if form.is_bound and hasattr(form, "cleaned_data") else None
    return render(request, "desk/console/phone_intake.html", {
        "form": form,
        "errors": errors,
        "chosen": chosen,
        "open_on_order": open_on_order,
        "hand_over": hand_over,
        "templates": [
            {"type": value, "label": label,
             "required": [str(REQUIRED_MESSAGES[field]) for field in TYPE_TEMPLATES[value]],
             "fields": TYPE_TEMPLATES[value]}
            for value, label in TicketType.choices
        ],
        "nav_active": "new_ticket",
    })


@require_GET
@rate_limited("customer_search")
def customer_search(request):
    """Find callers by phone number, customer id, name or order number (a form fragment)."""
    _require_intake(request.user)
    query = request.GET.get("q", "").strip()
    customers = []
    if len(query) >= 2:
        orders = Order.objects.order_by("-paid_at", "-id")
        customers = list(
            Customer.objects.filter(
                Q(phone__endswith=query) | Q(phone=query) | Q(external_id=query)
                | Q(name__startswith=query) | Q(orders__number=query)
            ).distinct().order_by("name", "id")
            .prefetch_related(Prefetch("orders", queryset=orders, to_attr="recent_orders"))
            [:SEARCH_LIMIT]
        )
        for customer in customers:
            customer.recent_orders = customer.recent_orders[:ORDERS_PER_CUSTOMER]
    return render(request, "desk/console/_customer_matches.html",
                  {"customers": customers, "query": query})
