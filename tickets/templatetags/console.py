"""Template helpers of the agent console: SLA countdown badges, choice labels, reasons."""

from functools import cache

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from tickets.audit_trail import describe_reason
from tickets.models import (
    OPEN_STATES,
    Category,
    Channel,
    ComplaintLevel,
    CustomerTier,
    EvidenceKind,
    MessageKind,
    ResolutionKind,
    ResolutionState,
    TicketState,
    TicketType,
)

register = template.Library()
SOON_SECONDS = 2 * 3600
CHOICES = {
    "state": TicketState, "category": Category, "channel": Channel,
    "complaint_level": ComplaintLevel, "tier": CustomerTier, "message_kind": MessageKind,
    "evidence": EvidenceKind, "ticket_type": TicketType, "resolution_kind": ResolutionKind,
    "resolution_state": ResolutionState,
}


@cache
def _labels(name: str, language: str) -> dict[str, str]:
    return {value: str(label) for value, label in CHOICES[name].choices}


@register.filter
def label(value, name: str) -> str:
    """Show a choice value by its label, e.g. {{ ticket.state|label:"state" }}.

    get_FOO_display() rebuilds and hashes the whole choice list on every call, translating
    each lazy label to hash it; a queue page of 50 rows would pay that hundreds of times.
    """
    return _labels(name, get_language() or "").get(value, value)


def _span(seconds: int) -> str:
    seconds = abs(int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return _("%(days)sd %(hours)sh") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)sh %(minutes)sm") % {"hours": hours, "minutes": minutes}
    return _("%(minutes)sm") % {"minutes": minutes}


def sla_state(ticket, now=None) -> dict | None:
    """Return the ticket's next SLA deadline as a badge: which clock, when, how urgent."""
    if ticket.state not in OPEN_STATES:
        return None
    if ticket.state == TicketState.PENDING_CUSTOMER:
        return {"label": _("Paused"), "css": "secondary", "due": None,
                "title": _("The clock waits for the customer")}
    now = now or timezone.now()
    if ticket.first_response_at is None and ticket.first_response_due_at:
        due, clock = ticket.first_response_due_at, _("First response")
    elif ticket.resolution_due_at:
        due, clock = ticket.resolution_due_at, _("Resolution")
    else:
        return None
    left = (due - now).total_seconds()
    if left < 0:
        label, css = _("%(span)s overdue") % {"span": _span(left)}, "danger"
    elif left < SOON_SECONDS:
        label, css = _("%(span)s left") % {"span": _span(left)}, "warning"
    else:
        label, css = _("%(span)s left") % {"span": _span(left)}, "success"
    return {"label": label, "css": css, "due": due, "title": clock}


@register.simple_tag
def sla_badge(ticket, now=None):
    """Render the SLA countdown badge (no template include: it is drawn on every queue row)."""
    sla = sla_state(ticket, now)
    if sla is None:
        return ""
    if sla["due"] is None:
        return format_html('<span class="badge text-bg-{} sla-badge" data-sla="{}" title="{}">{}</span>',
                           sla["css"], sla["css"], sla["title"], sla["label"])
    due = timezone.localtime(sla["due"])
    return format_html(
        '<span class="badge text-bg-{} sla-badge" data-sla="{}" data-due="{}" title="{} · {}">'
        '{} · <span class="sla-left">{}</span></span>',
        sla["css"], sla["css"], due.isoformat(), sla["title"], due.strftime("%Y-%m-%d %H:%M"),
        sla["title"], sla["label"])


@register.inclusion_tag("tickets/console/_due.html")
def due_time(value, done=None):
    """Show a due time with its countdown; `done` (when it was met) stops the clock."""
    now = timezone.now()
    css = "secondary"
    if value and not done:
        left = (value - now).total_seconds()
        css = "danger" if left < 0 else "warning" if left < SOON_SECONDS else "success"
    return {"value": value, "done": done, "css": css}


@register.simple_tag
def reason_label(reason: str) -> str:
    return describe_reason(reason)[0]


@register.simple_tag
def reason_comment(reason: str) -> str:
    return describe_reason(reason)[1]
