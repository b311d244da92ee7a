"""Template helpers of the agent console: SLA countdown badges, choice labels, reasons."""

from functools import cache

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import get_language, pgettext
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
        due, clock = ticket.first_response_due_at, pgettext("SLA clock", "First response")
    elif ticket.resolution_due_at:
        due, clock = ticket.resolution_due_at, pgettext("SLA clock", "Resolution")
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


def _when(value, this_year: int) -> str:
    """Return a compact local time ("11-23 05:22"; the year only when it is not this one).

    Numeric and the same in every language, and far cheaper than a localized date format
    repeated for every entry of a long timeline.
    """
    local = timezone.localtime(value)
    shown = local.strftime("%m-%d %H:%M" if local.year == this_year else "%Y-%m-%d %H:%M")
    return format_html('<time datetime="{}">{}</time>', local.isoformat(), shown)


def _attachment_link(attachment: dict) -> str:
    from django.template.defaultfilters import filesizeformat

    return format_html('<a href="{}">{}</a> <span class="text-secondary">{} · {}</span>',
                       attachment["url"], attachment["label"],
                       label(attachment["evidence_kind"], "evidence"),
                       filesizeformat(attachment["size"]))


_KIND_CSS = {"inbound": "info", "note": "warning", "reply": "success"}


@register.simple_tag
def timeline(items, customer_name: str):
    """Render the timeline's entries in Python: a workspace may hold hundreds of messages,
    and a template include per entry would cost more than the rest of the page."""
    from django.utils.html import escape
    from django.utils.safestring import mark_safe

    system = _("System")
    this_year = timezone.localtime().year
    parts = []
    for item in items:
        if item["type"] == "message":
            message = item["message"]
            kind = message["kind"]
            who = message["author"] or (customer_name if kind == "inbound" else "")
            channel = f" · {label(message['channel'], 'channel')}" if message["channel"] else ""
            files = "".join(format_html('<div class="small">{}</div>', _attachment_link(a))
                            for a in message["attachments"])
            parts.append(format_html(
                '<li class="timeline-item message-{}" data-kind="{}"><div class="small '
                'text-secondary"><span class="badge text-bg-{}">{}</span> {}{} · {}</div>'
                '<div class="message-body">{}</div>{}</li>',
                kind, kind, _KIND_CSS.get(kind, "secondary"), label(kind, "message_kind"), who,
                channel, _when(message["created_at"], this_year),
                mark_safe(escape(message["body"]).replace("\n", "<br>")),  # noqa: S308 - escaped
                mark_safe(files)))  # noqa: S308 - built with format_html
        elif item["type"] == "attachment":
            attachment = item["attachment"]
            parts.append(format_html(
                '<li class="timeline-item timeline-attachment small">{} · {}</li>',
                _attachment_link(attachment), _when(attachment["created_at"], this_year)))
        else:
            record = item["record"]
            action, comment = describe_reason(record.history_change_reason or "")
            parts.append(format_html(
                '<li class="timeline-item timeline-event small text-secondary" data-reason="{}">'
                '<span class="fw-semibold text-body">{}</span>{} · {} · {}</li>',
                record.history_change_reason or "", action,
                f" — {comment}" if comment else "", record.history_user or system,
                _when(record.history_date, this_year)))
    return mark_safe("".join(parts))  # noqa: S308 - every part built with format_html


@register.simple_tag
def queue_rows(tickets, with_checkboxes: bool):
    """Render a queue page's rows in Python.

    Fifty rows of a dozen cells each are most of a queue page's cost when every cell goes
    through the template engine; these rows are the console's hottest markup.
    """
    from django.template.defaultfilters import truncatechars
    from django.urls import reverse
    from django.utils.safestring import mark_safe

    if not tickets:
        return format_html('<tr><td colspan="10" class="text-secondary p-3" '
                           'data-testid="queue-empty">{}</td></tr>', _("No ticket in this queue."))
    # One reverse() for the pattern; the numbers are filled in per row.
    url_pattern = reverse("console-ticket", args=["NUMBER"])
    now = timezone.now()
    rows = []
    for ticket in tickets:
        box = format_html('<td><input type="checkbox" class="form-check-input" name="ticket" '
                          'value="{}" aria-label="{}"></td>', ticket.number, ticket.number
                          ) if with_checkboxes else ""
        badges = format_html(' <span class="badge text-bg-danger">{}</span>',
                             label(ticket.complaint_level, "complaint_level")
                             ) if ticket.complaint_level != "none" else ""
        tags = "".join(format_html(' <span class="badge text-bg-light border">{}</span>', tag)
                       for tag in ticket.tag_names)
        customer = ticket.customer
        vip = format_html(' <span class="badge text-bg-warning">{}</span>',
                          label(customer.tier, "tier")) if customer.is_vip else ""
        team = format_html('<div class="text-secondary">{}</div>', ticket.team.name
                           ) if ticket.team_id else ""
        rows.append(format_html(
            '<tr data-ticket="{number}" class="priority-{priority}">{box}'
            '<td class="text-nowrap"><a href="{url}">{number}</a></td>'
            '<td class="subject-cell">{subject}{badges}{tags}</td>'
            '<td class="text-nowrap">{customer}{vip}</td>'
            '<td class="text-nowrap"><span class="badge priority-badge p{priority}">'
            'P{priority}</span></td>'
            '<td class="text-nowrap">{state}</td><td class="text-nowrap">{sla}</td>'
            '<td class="text-nowrap small">{category}</td>'
            '<td class="text-nowrap small">{channel}</td>'
            '<td class="text-nowrap small">{assignee}{team}</td></tr>',
            number=ticket.number, priority=ticket.priority, box=box,
            url=url_pattern.replace("NUMBER", ticket.number), subject=truncatechars(
                ticket.subject, 48), badges=badges, tags=mark_safe(tags),  # noqa: S308
            customer=customer.name, vip=vip, state=label(ticket.state, "state"),
            sla=sla_badge(ticket, now), category=label(ticket.category, "category"),
            channel=label(ticket.channel, "channel"),
            assignee=ticket.assignee if ticket.assignee_id else "—", team=team,
        ))
    return mark_safe("".join(rows))  # noqa: S308 - every row built with format_html


@register.simple_tag
def select(bound_field, css: str = "form-select form-select-sm"):
    """Render a choice field's <select> in Python (the queue's filters sit on every page)."""
    from django.utils.safestring import mark_safe

    value = bound_field.value()
    chosen = "" if value is None else str(value)
    options = "".join(
        format_html('<option value="{}"{}>{}</option>', key,
                    mark_safe(" selected") if str(key) == chosen else "", text)
        for key, text in bound_field.field.choices
    )
    return format_html('<select name="{}" id="{}" class="{}">{}</select>', bound_field.html_name,
                       bound_field.id_for_label, css, mark_safe(options))  # noqa: S308
