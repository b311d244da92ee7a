"""A new ticket from a phone call: find the caller and the order, choose the type template."""

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
from shop.models import Customer, Order
from tickets import services
from tickets.models import Channel, TicketType
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
        )


def phone_intake(request):
    """Open a ticket for a caller; the type template decides which fields are required."""
    _require_intake(request.user)
    form = PhoneIntakeForm(request.POST or None)
    errors: list[str] = []
    open_on_order = OpenOnOrder()
    if request.method == "POST" and form.is_valid():
        # A call about an order with open tickets is most often about one of them: say so
        # before opening another, unless the agent has seen that and opens a new one anyway.
        if request.POST.get("open_new") != "1":
            open_on_order = open_tickets_on_order(user=request.user,
                                                  order=form.cleaned_data["order"])
        ticket = None
        if not open_on_order:
            ticket, errors = run_service(lambda: _create(request, form.cleaned_data))
        if ticket is not None:
            messages.success(request, _("Ticket %(number)s opened.") % {"number": ticket.number})
            return redirect("console-ticket", number=ticket.number)
    chosen = form.cleaned_data.get("customer") if form.is_bound and hasattr(form, "cleaned_data") else None
    return render(request, "desk/console/phone_intake.html", {
        "form": form,
        "errors": errors,
        "chosen": chosen,
        "open_on_order": open_on_order,
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
