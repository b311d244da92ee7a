"""The policy simulator: try a case (or a ticket) against the live rule table."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation import gettext as _

from core.models.roles import Role
from policies.models import PolicyRule
from policies.services import rulebook
from policies.services.facts import facts_for_ticket, item_for_ticket
from policies.views.forms import CaseForm
from policies.views.presentation import option_as_dict, trace_as_dict
from tickets.selectors import ticket_visible_to

SIMULATOR_ROLES = (Role.SUPERVISOR, Role.QA, Role.RISK_LEGAL)


def simulator(request):
    """Show the options and the full rule trace for a case, beside the rule rows that decided."""
    if not request.user.has_role(*SIMULATOR_ROLES):
        raise PermissionDenied
    form = CaseForm(request.GET or None)
    context = {"form": form, "nav_active": "simulator"}
    facts = None
    if form.is_bound and form.data.get("ticket", "").strip():
        number = form.data["ticket"].strip()
        ticket = ticket_visible_to(request.user).select_related(
            "customer", "order", "order_item").filter(number=number).first()
        item = item_for_ticket(ticket) if ticket else None
        if ticket is None:
            context["error"] = _("No ticket %(number)s that you may read.") % {"number": number}
        elif item is None:
            context["error"] = _("Ticket %(number)s has no order to decide on.") % {"number": number}
        else:
            facts = facts_for_ticket(ticket, item)
            context["ticket"] = ticket
    elif form.is_bound and form.is_valid():
        facts = form.to_facts()
    if facts is not None:
        version, decision = rulebook.decide(facts)
        deciding = {option.rule_id for option in decision.options}
        context.update({
            "facts": facts,
            "ruleset_version": version,
            "options": [option_as_dict(option) for option in decision.options],
            "trace": [trace_as_dict(entry) for entry in decision.trace],
            "deciding_rules": PolicyRule.objects.filter(pk__in=deciding).order_by("priority"),
        })
    return render(request, "policies/simulator.html", context)
