"""Template helpers of the agent console: SLA countdown badges, choice labels, reasons."""

import html
import unicodedata
from functools import cache

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

from core.services.accounts import is_system_user
from resolutions.models import ResolutionKind, ResolutionState
from shop.models import CustomerTier
from supervision.selectors.audit_trail import describe_reason
from tickets.models import (
    OPEN_STATES,
    Category,
    Channel,
    ComplaintLevel,
    EvidenceKind,
    MessageKind,
    TicketState,
    TicketType,
)

register = template.Library()


def _escape(value) -> str:
    """Escape text for HTML (the standard library's escape: no lazy-string bookkeeping)."""
    return html.escape(str(value), quote=True)
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


@cache
def _sla_words(language: str) -> dict[str, str]:
    """The SLA badge's wording in one language (a badge is drawn on every queue row)."""
    return {
        "days": _("%(days)sd %(hours)sh"), "hours": _("%(hours)sh %(minutes)sm"),
        "minutes": _("%(minutes)sm"), "overdue": _("%(span)s overdue"),
        "left": _("%(span)s left"), "paused": _("Paused"),
        "paused_title": _("The clock waits for the customer"),
        "first_response": pgettext("SLA clock", "First response"),
        "resolution": pgettext("SLA clock", "Resolution"),
    }


def _span(seconds: int, words: dict[str, str] | None = None) -> str:
    words = words or _sla_words(get_language() or "")
    seconds = abs(int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return words["days"] % {"days": days, "hours": hours}
    if hours:
        return words["hours"] % {"hours": hours, "minutes": minutes}
    return words["minutes"] % {"minutes": minutes}


def sla_state(ticket, now=None, words: dict[str, str] | None = None) -> dict | None:
    """Return the ticket's next SLA deadline as a badge: which clock, when, how urgent.

    `ticket` is a Ticket or anything with its state and due-time attributes (a QueueRow).
    """
    if ticket.state not in OPEN_STATES:
        return None
    words = words or _sla_words(get_language() or "")
    if ticket.state == TicketState.PENDING_CUSTOMER:
        return {"label": words["paused"], "css": "secondary", "due": None,
                "title": words["paused_title"]}
    now = now or timezone.now()
    if ticket.first_response_at is None and ticket.first_response_due_at:
        due, clock = ticket.first_response_due_at, words["first_response"]
    elif ticket.resolution_due_at:
        due, clock = ticket.resolution_due_at, words["resolution"]
    else:
        return None
    left = (due - now).total_seconds()
    if left < 0:
        label, css = words["overdue"] % {"span": _span(left, words)}, "danger"
    elif left < SOON_SECONDS:
        label, css = words["left"] % {"span": _span(left, words)}, "warning"
    else:
        label, css = words["left"] % {"span": _span(left, words)}, "success"
    return {"label": label, "css": css, "due": due, "title": clock}


def _sla_html(ticket, now=None, words: dict[str, str] | None = None, zone=None) -> str:
    """Return the SLA badge's HTML; every text in it is escaped here."""
    sla = sla_state(ticket, now, words)
    if sla is None:
        return ""
    css, title, text = sla["css"], _escape(sla["title"]), _escape(sla["label"])
    if sla["due"] is None:
        return (f'<span class="badge text-bg-{css} sla-badge" data-sla="{css}" title="{title}">'
                f"{text}</span>")
    due = timezone.localtime(sla["due"], zone)
    return (f'<span class="badge text-bg-{css} sla-badge" data-sla="{css}" '
            f'data-due="{due.isoformat()}" title="{title} · {due:%Y-%m-%d %H:%M}">'
            f'{title} · <span class="sla-left">{text}</span></span>')


@register.simple_tag
def sla_badge(ticket, now=None):
    """Render the SLA countdown badge (no template include: it is drawn on every queue row)."""
    return mark_safe(_sla_html(ticket, now))  # noqa: S308 - _sla_html escapes every text


@register.inclusion_tag("desk/console/_due.html")
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
    return f'<time datetime="{local.isoformat()}">{shown}</time>'


def _attachment_link(attachment: dict, ticket_number: str) -> str:
    from django.template.defaultfilters import filesizeformat

    # The console's own download, which checks the reader may see the ticket; never a
    # storage URL.
    url = reverse("console-attachment", args=[ticket_number, attachment["id"]])
    return (f'<a href="{_escape(url)}">{_escape(attachment["label"])}</a> '
            f'<span class="text-secondary">{_escape(label(attachment["evidence_kind"], "evidence"))}'
            f' · {_escape(filesizeformat(attachment["size"]))}</span>')


_KIND_CSS = {"inbound": "info", "note": "warning", "reply": "success", "phone_summary": "primary"}


def _actor_name(user, system: str) -> str:
    return system if user is None or is_system_user(user) else str(user)


@register.simple_tag
def timeline(items, customer_name: str, ticket_number: str):
    """Render the timeline's entries in Python.

    A workspace may hold hundreds of messages; a template node (or format_html) per entry
    would cost more than the rest of the page, so these are f-strings with every text
    passed through _escape.
    """
    e = _escape
    system = _("System")
    this_year = timezone.localtime().year
    parts = []
    for item in items:
        if item["type"] == "message":
            message = item["message"]
            kind = message["kind"]
            # A customer message names the customer; the integration that relayed it is in
            # the message's history.
            who = customer_name if kind == "inbound" else message["author"]
            channel = f" · {e(label(message['channel'], 'channel'))}" if message["channel"] else ""
            files = "".join(f'<div class="small">{_attachment_link(a, ticket_number)}</div>'
                            for a in message["attachments"])
            body = e(message["body"]).replace("\n", "<br>")
            parts.append(
                f'<li class="timeline-item message-{e(kind)}" data-kind="{e(kind)}">'
                f'<div class="small text-secondary"><span class="badge text-bg-'
                f'{_KIND_CSS.get(kind, "secondary")}">{e(label(kind, "message_kind"))}</span> '
                f'{e(who)}{channel} · {_when(message["created_at"], this_year)}</div>'
                f'<div class="message-body">{body}</div>{files}</li>')
        elif item["type"] == "attachment":
            attachment = item["attachment"]
            parts.append(f'<li class="timeline-item timeline-attachment small">'
                         f'{_attachment_link(attachment, ticket_number)} · '
                         f'{_when(attachment["created_at"], this_year)}</li>')
        else:
            record = item["record"]
            reason = record.history_change_reason or ""
            action, comment = describe_reason(reason)
            comment = f" — {e(comment)}" if comment else ""
            parts.append(
                f'<li class="timeline-item timeline-event small text-secondary" '
                f'data-reason="{e(reason)}"><span class="fw-semibold text-body">{e(action)}</span>'
                f'{comment} · {e(_actor_name(record.history_user, system))} · '
                f'{_when(record.history_date, this_year)}</li>')
    return mark_safe("".join(parts))  # noqa: S308 - every text above went through _escape


def _subject(text: str, limit: int = 48) -> str:
    """Shorten a subject as the truncatechars filter does, without its per-character walk.

    The filter only ever shortens a text longer than `limit` characters (combining marks do
    not count), and otherwise returns it NFC-normalised; most subjects are short.
    """
    if len(text) <= limit:
        return unicodedata.normalize("NFC", text)
    from django.template.defaultfilters import truncatechars

    return truncatechars(text, limit)


# How much of the customer's last message a queue row shows (characters).
PREVIEW_CHARS = 40


def _waiting_html(since, now, words: dict[str, str], zone) -> str:
    """Return how long the customer has waited for us (QueueRow.customer_waiting_since)."""
    if since is None:
        return '<span class="text-secondary">—</span>'
    local = timezone.localtime(since, zone)
    return (f'<time class="customer-waiting" datetime="{local.isoformat()}" '
            f'title="{local:%Y-%m-%d %H:%M}">'
            f'{_escape(_span((now - since).total_seconds(), words))}</time>')


@register.simple_tag
def queue_rows(tickets, with_checkboxes: bool, queue_key: str = ""):
    """Render a queue page's rows (selectors.QueueRow) in Python.

    Fifty rows of a dozen cells each are most of a queue page's cost when every cell goes
    through the template engine (or format_html); these rows are the console's hottest
    markup, so they are plain f-strings with every text passed through _escape, and the
    choice labels and SLA wording are looked up once per page rather than once per cell.
    """
    from django.urls import reverse

    if not tickets:
        return format_html('<tr><td colspan="11" class="text-secondary p-3" '
                           'data-testid="queue-empty">{}</td></tr>', _("No ticket in this queue."))
    # One reverse() for the pattern; the numbers are filled in per row.
    url_pattern = reverse("console-ticket", args=["NUMBER"])
    # The workspace learns the queue it was opened from: its j/k keys walk the same queue.
    if queue_key:
        url_pattern += "?" + urlencode({"queue": queue_key})
    now = timezone.now()
    language = get_language() or ""
    states, categories, channels = (_labels("state", language), _labels("category", language),
                                    _labels("channel", language))
    levels, tiers = _labels("complaint_level", language), _labels("tier", language)
    words = _sla_words(language)
    zone = timezone.get_current_timezone()
    e = _escape
    rows = []
    for ticket in tickets:
        number = e(ticket.number)
        priority = int(ticket.priority)
        box = (f'<td><input type="checkbox" class="form-check-input" name="ticket" '
               f'value="{number}" aria-label="{number}"></td>') if with_checkboxes else ""
        level = ticket.complaint_level
        level = (f' <span class="badge text-bg-danger">{e(levels.get(level, level))}</span>'
                 ) if level != "none" else ""
        tags = "".join(f' <span class="badge text-bg-light border">{e(tag)}</span>'
                       for tag in ticket.tag_names)
        tier = ticket.customer_tier
        vip = (f' <span class="badge text-bg-warning">{e(tiers.get(tier, tier))}</span>'
               ) if ticket.customer_is_vip else ""
        team = (f'<div class="text-secondary">{e(ticket.team_name)}</div>'
                ) if ticket.team_id else ""
        assignee = e(ticket.assignee_name) if ticket.assignee_id else "—"
        state, category, channel = ticket.state, ticket.category, ticket.channel
        href = e(url_pattern.replace("NUMBER", ticket.number))
        said = ticket.last_customer_message
        # A plain slice: the excerpt is one line already, and truncatechars walks every
        # character of every row's excerpt.
        shown = said if len(said) <= PREVIEW_CHARS else said[:PREVIEW_CHARS - 1] + "…"
        preview = (f'<div class="last-message text-secondary small" title="{e(said)}">'
                   f'{e(shown)}</div>') if said else ""
        # The whole row opens the ticket (console.js reads data-href); the number stays the
        # link that keyboards and screen readers use.
        rows.append(
            f'<tr data-ticket="{number}" data-href="{href}" class="priority-{priority} '
            f'queue-row">{box}'
            f'<td class="text-nowrap"><a href="{href}">{number}</a></td>'
            f'<td class="subject-cell">{e(_subject(ticket.subject))}{level}{tags}{preview}</td>'
            f'<td class="text-nowrap">{e(ticket.customer_name)}{vip}</td>'
            f'<td class="text-nowrap"><span class="badge priority-badge p{priority}">'
            f'P{priority}</span></td>'
            f'<td class="text-nowrap">{e(states.get(state, state))}</td>'
            f'<td class="text-nowrap small">'
            f'{_waiting_html(ticket.customer_waiting_since, now, words, zone)}</td>'
            f'<td class="text-nowrap">{_sla_html(ticket, now, words, zone)}</td>'
            f'<td class="text-nowrap small">{e(categories.get(category, category))}</td>'
            f'<td class="text-nowrap small">{e(channels.get(channel, channel))}</td>'
            f'<td class="text-nowrap small">{assignee}{team}</td></tr>'
        )
    return mark_safe("".join(rows))  # noqa: S308 - every text above went through _escape


@register.simple_tag
def select(bound_field, css: str = "form-select form-select-sm", choices=None):
    """Render a choice field's <select> in Python (the queue's filters sit on every page).

    f-strings with _escape rather than format_html per option: the filters hold some forty
    options, drawn on every queue page. `choices` stand in for the field's own when the
    caller has them cheaper (a model choice field's, read as plain values).
    """
    e = _escape
    value = bound_field.value()
    chosen = "" if value is None else str(value)
    options = "".join(
        f'<option value="{e(key)}"{" selected" if str(key) == chosen else ""}>{e(text)}</option>'
        for key, text in (bound_field.field.choices if choices is None else choices)
    )
    return mark_safe(  # noqa: S308 - every text above went through _escape
        f'<select name="{e(bound_field.html_name)}" id="{e(bound_field.id_for_label)}" '
        f'class="{e(css)}">{options}</select>')


@register.simple_tag
def queue_filters(form, tags):
    """Render the queue's filter fields (all but the hidden page) in Python.

    They sit on every queue page; drawn field by field through the template engine they cost
    about a millisecond, as much as the fifty rows. `tags` are (name, label) pairs.
    """
    e = _escape
    fields = []
    for field in form:
        if field.name == "page":
            continue
        field_id = e(field.id_for_label)
        if field.name == "vip":
            css = e(field.field.widget.attrs.get("class", ""))
            checked = " checked" if field.value() else ""
            fields.append(
                f'<div class="form-check mt-4"><input type="checkbox" name="vip" class="{css}" '
                f'id="{field_id}"{checked}><label class="form-check-label" for="{field_id}">'
                f'{e(field.label)}</label></div>')
            continue
        label = (f'<label class="form-label small mb-0" for="{field_id}">{e(field.label)}'
                 f'</label>')
        if field.name == "tag":
            chosen = field.value()
            options = "".join(
                f'<option value="{e(name)}"{" selected" if name == chosen else ""}>'
                f'{e(tag_label)}</option>' for name, tag_label in tags)
            control = (f'<select name="tag" id="{field_id}" class="form-select form-select-sm">'
                       f'<option value="">{e(_("Any"))}</option>{options}</select>')
        else:
            control = select(field)
        fields.append(label + control)
    return mark_safe("".join(  # noqa: S308 - every text above went through _escape
        f'<div class="col-auto">{html}</div>' for html in fields))


@register.simple_tag
def sla_texts():
    """The SLA badge's wording for console.js, which keeps the countdowns running."""
    from django.utils.html import json_script

    return json_script({
        "left": _("%(span)s left"), "overdue": _("%(span)s overdue"),
        "days": _("%(days)sd %(hours)sh"), "hours": _("%(hours)sh %(minutes)sm"),
        "minutes": _("%(minutes)sm"), "soon": SOON_SECONDS,
    }, "sla-texts")


@register.simple_tag
def queue_count(counts, key: str):
    """Render a queue tab's count badge: the number, or "99+" at the count's cap."""
    from tickets.selectors import QUEUE_COUNT_CAP

    if not counts or key not in counts:
        return ""
    count = counts[key]
    shown = f"{QUEUE_COUNT_CAP - 1}+" if count >= QUEUE_COUNT_CAP else str(count)
    return format_html(' <span class="badge rounded-pill text-bg-light border queue-count" '
                       'data-count="{}">{}</span>', count, shown)


@register.filter
def capped(count) -> str:
    """Show a count read with a cap (tickets.selectors.capped_counts): "99+" at the cap."""
    from tickets.selectors import QUEUE_COUNT_CAP

    return f"{QUEUE_COUNT_CAP - 1}+" if int(count) >= QUEUE_COUNT_CAP else str(count)
