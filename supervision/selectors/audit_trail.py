"""One chronological audit trail of a ticket, its messages, attachments, resolutions and payouts.

The ticket workspace's audit-trail tab and the QA audit-trail viewer read the same list.
Every history row says who acted, when, why (a stable reason key, translated when shown)
and which fields changed against the object's previous version. The trail also says
whether the hash chains of the ticket, its messages, resolutions and payouts still verify
(core.services.audit_chain), from the rows it reads anyway plus the payouts' history.
"""

from datetime import datetime
from typing import Any

from django.db.models import Model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.services import audit_chain
from core.services.accounts import is_system_user
from core.services.audit import history_model_of
from resolutions.models import Payout, PayoutState, Resolution
from shop.models import CONTACT_FIELDS, mask_contact
from supervision.models.qa import QaReview
from supervision.models.survey import Survey
from supervision.selectors.reasons import (  # noqa: F401 - the workspace reads them here
    RESOLUTION_ACTIONS,
    describe_reason,
)
from tickets.models import Attachment, Message, Team, Ticket

# Fields never worth showing as a change: bookkeeping, or shown in another way.
# A phone number a caller reported is shown masked only, never in the trail.
_SKIPPED_FIELDS = {"id", "updated_at", "ticket", "idempotency_key", "sha256", "file",
                   "reported_phone"}

SUBJECTS = {
    "ticket": gettext_lazy("Ticket"),
    "message": gettext_lazy("Message"),
    "attachment": gettext_lazy("Attachment"),
    "resolution": gettext_lazy("Resolution"),
    "payout": gettext_lazy("Payout"),
    "survey": gettext_lazy("Satisfaction survey"),
    "qa_review": gettext_lazy("QA review"),
}

# Who may read the customer's survey answer and the QA reviews in a ticket's trail.
SURVEY_PERMISSION = "supervision.view_survey"
QA_REVIEW_PERMISSION = "supervision.view_qareview"


def _fields(model) -> list[str]:
    return [
        field.name for field in model._meta.concrete_fields
        if field.editable and field.name not in _SKIPPED_FIELDS
    ]


def _verbose_names(model) -> dict[str, str]:
    return {field.name: str(field.verbose_name) for field in model._meta.concrete_fields}


# Foreign keys shown by name: people and teams (one query each for the whole trail).
_USER_FIELDS = {"assignee", "created_by", "author", "uploaded_by", "proposed_by", "approved_by",
                "reviewer"}
_TEAM_FIELDS = {"team"}


def _display(model, name: str, value):
    """Return a field value as a reader sees it: choice labels instead of codes."""
    if value is None or value == "":
        return "—"
    if name in CONTACT_FIELDS:
        return mask_contact(name, value)  # contact details never appear in full in a diff
    if name in _USER_FIELDS or name in _TEAM_FIELDS:
        return value  # an id, named in _name_references
    field = model._meta.get_field(name)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, datetime):
        return value
    return str(value)


def _history_entries(subject: str, model, records, *, title_of) -> list[dict]:
    """Turn one model's history rows (ordered per object, oldest first) into entries."""
    fields = _fields(model)
    names = _verbose_names(model)
    previous_by_object: dict[int, object] = {}
    entries = []
    for record in records:
        previous = previous_by_object.get(record.id)
        changes = []
        if previous is not None:
            delta = record.diff_against(previous, included_fields=fields)
            changes = [
                {"field": change.field, "label": names.get(change.field, change.field),
                 "old": _display(model, change.field, change.old),
                 "new": _display(model, change.field, change.new)}
                for change in delta.changes
            ]
        previous_by_object[record.id] = record
        label, comment = describe_reason(record.history_change_reason or "")
        entries.append({
            "key": f"{subject}:{record.history_id}",
            "at": record.history_date,
            "actor": record.history_user,
            "actor_name": (_("System") if record.history_user is None
                           or is_system_user(record.history_user) else str(record.history_user)),
            "actor_id": record.history_user_id,
            "subject": subject,
            "subject_label": str(SUBJECTS[subject]),
            "object_id": record.id,
            "title": title_of(record),
            "type": {"+": "created", "~": "changed", "-": "deleted"}[record.history_type],
            "reason": record.history_change_reason or "",
            "action": label,
            "comment": comment,
            "changes": changes,
        })
    return entries


def _name_references(entries: list[dict]) -> None:
    """Replace the ids of people and teams in the changes by their names."""
    from django.contrib.auth import get_user_model

    wanted: dict[str, set[int]] = {"user": set(), "team": set()}
    for entry in entries:
        for change in entry["changes"]:
            group = ("user" if change["field"] in _USER_FIELDS
                     else "team" if change["field"] in _TEAM_FIELDS else None)
            if group:
                wanted[group].update(v for v in (change["old"], change["new"]) if v != "—")
    names = {
        "user": {u.pk: str(u) for u in get_user_model().objects.filter(pk__in=wanted["user"])}
        if wanted["user"] else {},
        "team": dict(Team.objects.filter(pk__in=wanted["team"]).values_list("pk", "name"))
        if wanted["team"] else {},
    }
    for entry in entries:
        for change in entry["changes"]:
            group = ("user" if change["field"] in _USER_FIELDS
                     else "team" if change["field"] in _TEAM_FIELDS else None)
            if group:
                for side in ("old", "new"):
                    if change[side] != "—":
                        change[side] = names[group].get(change[side], str(change[side]))


class AuditTrail(list):
    """The trail's entries, and `verification`: whether its history chains are intact.

    A list, so every reader of the entries stays as it was; the page shows the
    verification above them.
    """

    verification: dict


def _verify(chains: list[tuple[str, type[Model], list[Any]]]) -> dict:
    """{"ok": True} or the first broken row: {"ok": False, "subject_label", "history_id",
    "object_id", "at", "problem"} (see core.services.audit_chain.walk)."""
    for subject, model, records in chains:
        broken = audit_chain.first_break(history_model_of(model), records)
        if broken is not None:
            return {"ok": False, "subject": subject, "subject_label": str(SUBJECTS[subject]),
                    "history_id": broken.history_id, "object_id": broken.object_id,
                    "at": broken.history_date, "problem": broken.problem}
    return {"ok": True}


def audit_trail(*, ticket: Ticket, user=None, since=None, until=None) -> AuditTrail:
    """Return every recorded change of the ticket and what belongs to it, oldest first.

    `user` keeps the changes that user made; `since` and `until` (aware datetimes, both
    inclusive) keep a time range. Diffs compare each version with the object's previous
    version, whether or not that one passes the filters. The chains are checked on every
    row, whatever the filters. At most eight queries, whatever the size (six, plus one
    each to name the people and teams that changes refer to; one more only when a chain
    starts after a retention purge).
    """
    def rows(history_model, **lookup):
        return list(history_model.objects.filter(**lookup).select_related("history_user")
                    .order_by("history_date", "history_id"))

    ticket_rows = rows(Ticket.history.model, id=ticket.pk)
    message_rows = rows(Message.history.model, ticket_id=ticket.pk)
    resolution_rows = rows(Resolution.history.model, ticket_id=ticket.pk)
    payout_rows = Payout.history.model.objects.filter(resolution__ticket_id=ticket.pk)
    verification = _verify([
        ("ticket", Ticket, ticket_rows), ("message", Message, message_rows),
        ("resolution", Resolution, resolution_rows), ("payout", Payout, list(payout_rows)),
    ])

    entries = []
    entries += _history_entries(
        "ticket", Ticket, ticket_rows, title_of=lambda record: record.number)
    entries += _history_entries(
        "message", Message, message_rows, title_of=lambda record: record.get_kind_display())
    entries += _history_entries(
        "attachment", Attachment, rows(Attachment.history.model, ticket_id=ticket.pk),
        title_of=lambda record: record.label)
    entries += _history_entries(
        "resolution", Resolution, resolution_rows,
        title_of=lambda record: record.get_kind_display())
    # Payouts are a ledger; each paid row is its own entry (a reservation that was released
    # paid nothing, and one being paid shows up once the gateway has answered).
    # Who recorded it: the person who executed or settled it by hand, else the system.
    for payout in (Payout.objects.filter(resolution__ticket_id=ticket.pk, state=PayoutState.PAID)
                   .select_related("recorded_by").order_by("created_at", "id")):
        amount = str(payout.points) if payout.kind == "points" else f"¥{payout.amount}"
        recorder = payout.recorded_by
        named = recorder if recorder is not None and not is_system_user(recorder) else None
        entries.append({
            "key": f"payout:{payout.pk}",
            "at": payout.paid_at or payout.created_at,
            "actor": named,
            "actor_name": str(named) if named is not None else _("System"),
            "actor_id": named.pk if named is not None else None,
            "subject": "payout",
            "subject_label": str(SUBJECTS["payout"]),
            "object_id": payout.pk,
            "title": payout.get_kind_display(),
            "type": "created",
            "reason": "payout",
            "action": _("Paid out %(amount)s") % {"amount": amount},
            "comment": payout.gateway_reference,
            "changes": [],
        })

    _name_references(entries)
    if user is not None:
        entries = [entry for entry in entries if entry["actor_id"] == user.pk]
    if since is not None:
        entries = [entry for entry in entries if entry["at"] >= since]
    if until is not None:
        entries = [entry for entry in entries if entry["at"] <= until]
    entries.sort(key=lambda entry: entry["at"])
    trail = AuditTrail(entries)
    trail.verification = verification
    return trail


def _survey_entries(ticket: Ticket) -> list[dict]:
    """The survey sent when the ticket closed and the customer's answer (one query)."""
    survey = Survey.objects.filter(ticket_id=ticket.pk).first()
    if survey is None:
        return []
    common = {"subject": "survey", "subject_label": str(SUBJECTS["survey"]),
              "object_id": survey.pk, "title": ticket.number, "actor": None, "actor_id": None}
    entries = [{**common, "key": f"survey:{survey.pk}:sent", "at": survey.sent_at,
                "actor_name": _("System"), "type": "created", "reason": "survey:sent",
                "action": _("Survey sent to the customer"), "comment": "", "changes": []}]
    if survey.answered_at is not None:
        names = _verbose_names(Survey)
        entries.append({
            **common, "key": f"survey:{survey.pk}:answered", "at": survey.answered_at,
            "actor_name": _("Customer"), "type": "changed", "reason": "survey:answered",
            "action": _("The customer answered the survey"), "comment": survey.comment,
            "changes": [{"field": name, "label": names[name], "old": "—",
                         "new": str(getattr(survey, name))}
                        for name in ("csat", "speed", "attitude", "expertise", "nps")
                        if getattr(survey, name) is not None],
        })
    return entries


def _qa_review_entries(ticket: Ticket) -> list[dict]:
    """Every version of the ticket's QA reviews: queued, scored, amended (one query)."""
    records = list(QaReview.history.model.objects.filter(ticket_id=ticket.pk)
                   .select_related("history_user").order_by("history_date", "history_id"))
    return _history_entries("qa_review", QaReview, records,
                            title_of=lambda record: record.get_source_display())


def with_survey_and_qa(entries: list[dict], *, viewer, ticket: Ticket, user=None, since=None,
                       until=None) -> AuditTrail:
    """Add the survey answer and the QA reviews to a ticket's trail, where the viewer may read
    them (agents may not: the survey needs supervision.view_survey, the reviews
    supervision.view_qareview). Same filters as `audit_trail`; at most three queries more
    (the survey, the reviews' history, the people the reviews name). The trail's
    verification is kept."""
    extra = []
    if viewer.has_perm(SURVEY_PERMISSION):
        extra += _survey_entries(ticket)
    if viewer.has_perm(QA_REVIEW_PERMISSION):
        extra += _qa_review_entries(ticket)
    _name_references(extra)
    if user is not None:
        extra = [entry for entry in extra if entry["actor_id"] == user.pk]
    if since is not None:
        extra = [entry for entry in extra if entry["at"] >= since]
    if until is not None:
        extra = [entry for entry in extra if entry["at"] <= until]
    trail = AuditTrail(sorted([*entries, *extra], key=lambda entry: entry["at"]))
    trail.verification = getattr(entries, "verification", {})
    return trail
