"""Every change to a ticket: creation, assignment, transitions, escalation and priority.

Each service runs in one transaction, checks who may act, calls the state machine and saves
through save_with_history, so the audit trail always says who did what and why.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import ConcurrentTransition, can_proceed

from core.db.inserts import insert_new, reserve_keys_of, together
from core.models.roles import WORKING_ROLES, Role
from core.models.user import User
from core.services.accounts import system_user
from core.services.audit import history_model_of, history_row, save_with_history, write_history
from core.services.exceptions import Conflict, NotFound
from shop.models import Customer, Order, OrderItem
from tickets.models import (
    COMPLAINT_LEVEL_RANK,
    LAST_MESSAGE_EXCERPT,
    OPEN_STATES,
    CancelReason,
    Channel,
    Collaborator,
    ComplaintLevel,
    Message,
    MessageKind,
    Priority,
    Team,
    Ticket,
    TicketState,
    can_work_on,
    user_team_ids,
)
from tickets.selectors import NO_SUCH_TICKET, ticket_visible_to
from tickets.services import lifecycle
from tickets.services.numbering import next_ticket_number

# Where each complaint level is handled [001]: L2 by complaint specialists, L3 by risk and
# legal, special cases by the VIP desk. L1 stays with the frontline team. Keyed by the stored
# value: a ComplaintLevel is the str it stores.
ESCALATION_TEAM_CODES: dict[str, str] = {
    ComplaintLevel.L2: "complaints",
    ComplaintLevel.L3: "risk_legal",
    ComplaintLevel.SPECIAL: "vip_desk",
}
# Escalated complaints jump the queue ("VIP customers and complaint calls").
ESCALATION_MIN_PRIORITY: dict[str, int] = {
    ComplaintLevel.L2: Priority.P1,
    ComplaintLevel.L3: Priority.P0,
    ComplaintLevel.SPECIAL: Priority.P1,
}


def escalation_team_code(level: str) -> str | None:
    """Return the code of the team that handles a complaint level (None: the ticket's own)."""
    return ESCALATION_TEAM_CODES.get(level)


def escalated_priority(*, priority: int, level: str) -> int:
    """Return a ticket's priority at a complaint level (escalation raises it, never lowers it)."""
    return min(priority, ESCALATION_MIN_PRIORITY.get(level, priority))


def transition_reason(name: str, comment: str = "") -> str:
    """Return the history reason for a transition: a stable key, then the agent's comment."""
    comment = comment.strip()
    return f"transition:{name} — {comment}" if comment else f"transition:{name}"


def _save(ticket: Ticket, *, actor: User | None, reason: str) -> None:
    try:
        save_with_history(ticket, actor=actor, reason=reason)
    except ConcurrentTransition as exc:
        raise Conflict(
            _("The ticket was changed by someone else in the meantime. Reload it and try again."),
            code="stale",
        ) from exc


def _require_open(ticket: Ticket) -> None:
    if ticket.state not in OPEN_STATES:
        raise Conflict(
            _("The ticket is %(state)s; it can no longer be changed this way.")
            % {"state": ticket.get_state_display()},
            code="not_open",
        )


def _require_can_work(ticket: Ticket, actor: User) -> None:
    if not can_work_on(ticket, actor):
        raise PermissionDenied(_("You may not act on this ticket."))


# The same words for a ticket that does not exist and one the user may not read, so an
# error never tells the two apart.
def require_can_work_target(target: Ticket, actor: User, *, field_name: str) -> None:
    """Check another ticket the caller names (a merge target, ...) by the same rules.

    A ticket the actor may not read is refused exactly like a missing one (NotFound, 404);
    one they read but may not work on is forbidden. Call it before any other check of the
    target, so no message describes a ticket the actor may not see.
    """
    if not ticket_visible_to(actor).filter(pk=target.pk).exists():
        raise NotFound(NO_SUCH_TICKET % {"number": target.number}, field=field_name)
    if not can_work_on(target, actor):
        raise PermissionDenied(
            _("You may not act on ticket %(number)s.") % {"number": target.number}
        )


def _require_reason(reason: str, field_name: str = "reason") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({field_name: _("Give a reason; it goes into the audit trail.")})
    return reason


# --- creation ----------------------------------------------------------------------------
# The ticket's own fields that full_clean would check against the database; ticket_create
# holds each as an instance it just read or was given, so the checks are left out.
_RELATIONS_HELD = ["customer", "order", "order_item", "team", "assignee", "created_by"]


def ticket_create(
    *,
    actor: User,
    channel: str,
    customer: Customer,
    subject: str,
    description: str = "",
    ticket_type: str = "",
    category: str = "",
    priority: int | None = None,
    complaint_level: str = ComplaintLevel.NONE,
    order: Order | None = None,
    order_item: OrderItem | None = None,
    team: Team | None = None,
    request_reason: str = "",
    item_condition: str = "",
    requested_resolution: str = "",
    claims_statutory: bool = False,
    created_at: datetime | None = None,
    auto_assign: bool = True,
    reported_contact: dict[str, str] | None = None,
    savepoint: bool = True,
    keep_if_workable: bool = False,
    rows_of_new_ticket: Callable[[Ticket], Sequence[models.Model]] | None = None,
) -> Ticket:
    """Create a ticket: number, routing (category, team, priority), SLA due times, assignee.

    An explicit team (a team's own phone intake) wins over the routing table; `auto_assign`
    hands the ticket to the least-loaded available agent of the team who has the skill.
    `reported_contact` holds what the caller said about themselves that differs from the
    customer record (reported_name, reported_phone, reported_tier). `savepoint=False` for a
    caller whose own transaction is rolled back whole on any error (API intake).
    `keep_if_workable` (phone intake): the actor keeps the ticket when routing says they may
    work it. A routed team nobody is available in hands the ticket to the default team.
    `rows_of_new_ticket(ticket)` gives the caller's own new rows that refer to the ticket
    (of one model), inserted with the ticket's own, in the same transaction.

    The new ticket's opening message, if any, is `ticket.opening_message`.
    """
    if order is not None and order.customer_id != customer.pk:
        raise ValidationError({"order": _("The order belongs to another customer.")})
    if order_item is not None and (order is None or order_item.order_id != order.pk):
        raise ValidationError({"order_item": _("The item is not part of the order.")})
    now = created_at or timezone.now()
    routed = lifecycle.router().route(
        subject=subject, description=description, category=category, channel=channel,
        tier=customer.tier, priority=Priority.P2 if priority is None else priority,
        request_reason=request_reason,
    )
    config = routed.config
    ticket: Ticket = Ticket(
        channel=channel,
        customer=customer,
        order=order,
        order_item=order_item,
        team=team or routed.team,
        category=routed.category,
        priority=routed.priority,
        subject=subject.strip(),
        description=description.strip(),
        complaint_level=complaint_level,
        request_reason=request_reason,
        item_condition=item_condition,
        requested_resolution=requested_resolution,
        claims_statutory=claims_statutory,
        created_by=actor,
        created_at=now,
    )
    if ticket_type:
        ticket.ticket_type = ticket_type
    for name, value in (reported_contact or {}).items():
        if name not in ("reported_name", "reported_phone", "reported_tier"):
            raise ValueError(name)
        setattr(ticket, name, value)
    lifecycle.clocks().stamp_due_times(ticket, config=config)
    ticket.full_clean(exclude=["state", "number", *_RELATIONS_HELD])
    notes = list(routed.rules)  # the routing rules that matched, named in the history
    opening_kind = _description_kind(actor, channel) if ticket.description else ""
    track_conversation(ticket, kind=opening_kind, body=ticket.description, at=now)
    with transaction.atomic(savepoint=savepoint):
        # The least-loaded agent counts open tickets; the new one is not among them yet.
        agent, taken = None, False
        if team is None and ticket.team is not None:  # routed (an explicit team is kept)
            staffed = lifecycle.router().staff(
                team=ticket.team, skill=routed.skill, pick=auto_assign, config=config,
                taken_by=actor if keep_if_workable else None)
            ticket.team, agent, taken = staffed.team, staffed.agent, staffed.taken
            if staffed.note:
                notes.append(staffed.note)
        elif auto_assign and ticket.team is not None:  # the team set above: no query
            agent = lifecycle.router().pick_agent(team=ticket.team, skill=routed.skill)
        # The day's counter stays locked until COMMIT, and every other creation waits for
        # it: it is taken as late as possible. Where the database hands out keys ahead
        # (PostgreSQL), the rows that need only the ticket's key go first, in one statement
        # (core.db.inserts.together), and the lock covers no more than one statement of
        # the ticket's own row and its history.
        keys = reserve_keys_of([Ticket, Message] if ticket.description else [Ticket])
        if keys is not None:
            ticket.pk = keys[0]
            with together():
                _write_opening_rows(ticket, actor=actor, kind=opening_kind, config=config,
                                    rows_of_new_ticket=rows_of_new_ticket,
                                    message_key=keys[1] if ticket.description else None)
        # Who assigned it: the agent who opened it (phone intake), else routing (the system).
        assigned_by = None if agent is None else actor if taken else system_user()
        ticket.number = next_ticket_number(at=now)
        with together():
            _insert_new_ticket(ticket, agent=agent)
            if keys is None:
                _write_opening_rows(ticket, actor=actor, kind=opening_kind, config=config,
                                    rows_of_new_ticket=rows_of_new_ticket)
            reason = f"create:{channel}" + (" — " + ", ".join(notes) if notes else "")
            _write_creation_history(ticket, actor=actor, reason=reason,
                                    assigned_by=assigned_by, taken=taken)
    return ticket


def _write_opening_rows(ticket: Ticket, *, actor: User, kind: str, config: Any,
                        rows_of_new_ticket: Callable[[Ticket], Sequence[models.Model]] | None,
                        message_key: int | None = None) -> None:
    """Write what a new ticket starts with besides its own row: the customer-update clock,
    the opening message with its history and the caller's rows. Each needs only the
    ticket's key (foreign keys are checked at COMMIT), so they may come before the ticket's
    INSERT. `message_key`: the opening message's key, taken ahead."""
    if rows_of_new_ticket is not None:
        insert_new(rows_of_new_ticket(ticket))
    lifecycle.clocks().plan_next_update(ticket=ticket, after=ticket.created_at, config=config)
    ticket.opening_message = None
    if ticket.description:
        message = Message(pk=message_key, ticket=ticket, kind=kind, body=ticket.description,
                          author=actor,
                          channel="" if kind == MessageKind.NOTE else ticket.channel,
                          created_at=ticket.created_at)
        _insert_with_history(message, actor=actor, reason=f"message:{kind}")
        ticket.opening_message = message


def _insert_new_ticket(ticket: Ticket, *, agent: User | None) -> None:
    """Insert the ticket, assigned already when routing found an agent; no history yet.

    _write_creation_history then tells it in two steps, as they happened: created
    unassigned by the actor, then assigned by routing (the system). One INSERT of the ticket
    and one of its history rows replace an INSERT, an UPDATE and two history writes.
    """
    ticket._creation_values = {field.attname: getattr(ticket, field.attname)
                               for field in history_model_of(Ticket).tracked_fields}
    ticket._creation_time = timezone.now()
    if agent is not None:
        ticket.assignee = agent
        ticket.assign()
    insert_new([ticket])  # its history is written below, in one statement with the assignment
    ticket._update_initial_state()  # what ConcurrentTransitionMixin.save() does after a save
    ticket._creation_values["id"] = ticket.pk


def _insert_with_history(obj: models.Model, *, actor: User | None, reason: str) -> None:
    """Insert a new object and its first history row, the row written directly (the same
    row save_with_history would write, without simple_history's per-save lookups)."""
    insert_new([obj])
    write_history([history_row(obj, actor=actor, reason=reason, history_type="+",
                               when=timezone.now())], new_object=True)


def _write_creation_history(ticket: Ticket, *, actor: User | None, reason: str,
                            assigned_by: User | None, taken: bool = False) -> None:
    rows = [history_row(ticket, actor=actor, reason=reason, history_type="+",
                        when=ticket._creation_time, values=ticket._creation_values)]
    if ticket.assignee_id is not None:
        rows.append(history_row(ticket, actor=assigned_by, history_type="~",
                                when=timezone.now(),
                                reason=transition_reason("assign", "intake" if taken
                                                         else "routing")))
    write_history(rows, new_object=True)
    del ticket._creation_values, ticket._creation_time


def _description_kind(actor: User | None, channel: str) -> str:
    """Return how the opening description enters the timeline, named after who wrote it.

    A channel integration passes on the customer's own words; staff who open a ticket write
    down what the customer told them, which is their phone call summary or their note.
    """
    if actor is not None and actor.has_perm("tickets.record_inbound_message"):
        return MessageKind.INBOUND
    return MessageKind.PHONE_SUMMARY if channel == Channel.PHONE else MessageKind.NOTE


# --- what the queues show of the conversation ---------------------------------------------
# The customer's own words: what a channel passed on, or what they said on the phone.
CUSTOMER_WORDS = (MessageKind.INBOUND, MessageKind.PHONE_SUMMARY)


def message_excerpt(body: str) -> str:
    """Return the start of a message as one line, short enough to keep on the ticket."""
    return " ".join(body.split())[:LAST_MESSAGE_EXCERPT]


def track_conversation(ticket: Ticket, *, kind: str, body: str, at: datetime) -> list[str]:
    """Keep the ticket's conversation fields in step with a new message (in memory only).

    A customer message becomes the ticket's last customer message and, unless the customer
    is already waiting, starts their wait; a reply to the customer ends it. Notes change
    nothing. Returns the names of the fields changed, for the caller to save.
    """
    if kind in CUSTOMER_WORDS:
        ticket.last_customer_message = message_excerpt(body)
        ticket.last_customer_message_at = at
        if ticket.customer_waiting_since is None:
            ticket.customer_waiting_since = at
        return ["last_customer_message", "last_customer_message_at", "customer_waiting_since"]
    if kind == MessageKind.REPLY and ticket.customer_waiting_since is not None:
        ticket.customer_waiting_since = None
        return ["customer_waiting_since"]
    return []


# --- assignment --------------------------------------------------------------------------
def _check_assignee(ticket: Ticket, assignee: User) -> None:
    if not assignee.is_active or not assignee.has_role(*WORKING_ROLES):
        raise ValidationError({"assignee": _("%(user)s does not work tickets.") % {"user": assignee}})
    if (
        ticket.team_id is not None
        and not assignee.has_role(Role.SUPERVISOR)
        and ticket.team_id not in user_team_ids(assignee)
        # A team nobody works in (its members left) cannot keep its tickets: whoever may
        # assign (a supervisor) gives them to any working agent; the ticket keeps its team.
        and _team_has_working_member(ticket.team_id)
    ):
        raise ValidationError(
            {"assignee": _("%(user)s is not a member of the team %(team)s.")
             % {"user": assignee, "team": ticket.team}}
        )


def _team_has_working_member(team_id: int) -> bool:
    return Team.members.through.objects.filter(
        team_id=team_id, user__is_active=True,
        user__groups__name__in=[str(role) for role in WORKING_ROLES]).exists()


@transaction.atomic
def ticket_assign(*, ticket: Ticket, actor: User, assignee: User, comment: str = "") -> Ticket:
    """Assign the ticket to `assignee`: the actor claims it, or hands it to a colleague."""
    _require_open(ticket)
    if assignee == actor:
        _require_can_work(ticket, actor)
    elif not (
        actor.has_perm("tickets.assign_ticket")
        and (actor.has_role(Role.SUPERVISOR) or ticket.team_id in user_team_ids(actor))
    ):
        raise PermissionDenied(_("You may not assign this ticket to someone else."))
    _check_assignee(ticket, assignee)
    if ticket.assignee_id == assignee.pk:
        raise Conflict(_("The ticket is already assigned to %(user)s.") % {"user": assignee})
    ticket.assignee = assignee
    if ticket.state == TicketState.NEW:
        ticket.assign()
        reason = transition_reason("assign", comment)
    else:
        reason = f"reassign — {comment.strip()}" if comment.strip() else "reassign"
    _save(ticket, actor=actor, reason=reason)
    return ticket


# --- the generic transition --------------------------------------------------------------
@dataclass(frozen=True)
class TransitionSpec:
    """How the API and the pages offer a transition: its label and the inputs it needs."""

    name: str
    label: str | Promise
    fields: tuple[str, ...] = ()
    extra: dict[str, object] = field(default_factory=dict)


TRANSITIONS: dict[str, TransitionSpec] = {
    spec.name: spec
    for spec in [
        TransitionSpec("assign", gettext_lazy("Assign"), ("assignee",)),
        TransitionSpec("unassign", gettext_lazy("Return to the team queue")),
        TransitionSpec("respond", gettext_lazy("Start work")),
        TransitionSpec("wait_for_customer", gettext_lazy("Wait for the customer")),
        TransitionSpec("wait_for_internal", gettext_lazy("Wait on another department"),
                       ("waiting_on",)),
        TransitionSpec("resume", gettext_lazy("Resume")),
        TransitionSpec("resolve", gettext_lazy("Resolve"), ("summary",)),
        TransitionSpec("close", gettext_lazy("Close")),
        TransitionSpec("reopen", gettext_lazy("Reopen")),
        TransitionSpec("cancel", gettext_lazy("Cancel"), ("reason", "merged_into")),
    ]
}


def ticket_available_transitions(*, ticket: Ticket, user: User) -> list[TransitionSpec]:
    """Return the transitions the user may take on the ticket now."""
    available = []
    for name, spec in TRANSITIONS.items():
        method = getattr(ticket, name)
        if not can_proceed(method, check_conditions=False) or not can_work_on(ticket, user):
            continue
        if name == "assign" and not (
            user.has_perm("tickets.assign_ticket") or ticket.assignee_id is None
        ):
            continue
        if name == "resolve" and _shows_open_resolutions(ticket):
            continue
        available.append(spec)
    return available


def _shows_open_resolutions(ticket: Ticket) -> bool:
    """Whether the ticket has an open resolution, from its loaded resolutions if it has them.

    Only for offering "resolve": taking it checks the database again (has_no_open_resolutions).
    """
    loaded = getattr(ticket, "_prefetched_objects_cache", {}).get("resolutions")
    if loaded is None:
        return not ticket.has_no_open_resolutions()
    return any(resolution.is_open() for resolution in loaded)


def _refuse_unknown_or_wrong_state(ticket: Ticket, name: str) -> Callable[..., None]:
    if name not in TRANSITIONS:
        raise ValidationError({"name": _("Unknown transition “%(name)s”.") % {"name": name}})
    method: Callable[..., None] = getattr(ticket, name)
    if not can_proceed(method, check_conditions=False):
        raise Conflict(
            _("“%(transition)s” is not possible while the ticket is %(state)s.")
            % {"transition": TRANSITIONS[name].label, "state": ticket.get_state_display()},
            code="transition_not_allowed",
        )
    return method


@transaction.atomic
def ticket_transition(*, ticket: Ticket, actor: User, name: str, comment: str = "", **params: Any) -> Ticket:
    """Take the named transition with its inputs; refuse with 400, 403 or 409 semantics."""
    method = _refuse_unknown_or_wrong_state(ticket, name)
    if name == "assign":
        assignee = params.get("assignee")
        if assignee is None:
            raise ValidationError({"assignee": _("Choose who gets the ticket.")})
        return ticket_assign(ticket=ticket, actor=actor, assignee=assignee, comment=comment)
    _require_can_work(ticket, actor)
    now = timezone.now()

    if name == "cancel":
        return _cancel(ticket, actor=actor, comment=comment, now=now, **params)
    if name == "resolve":
        summary = (params.get("summary") or "").strip()
        if not summary:
            raise ValidationError({"summary": _("Describe how the request was resolved.")})
        if not ticket.has_no_open_resolutions():
            raise Conflict(
                _("A resolution of this ticket is still open; finish or cancel it first."),
                code="open_resolutions",
            )
        ticket.resolution_summary = summary
        method(at=now)
    elif name == "wait_for_internal":
        waiting_on = params.get("waiting_on") or ""
        if waiting_on not in Collaborator.values:
            raise ValidationError({"waiting_on": _("Choose the department the ticket waits on.")})
        ticket.waiting_on = waiting_on
        method(at=now)
    elif name == "respond" and ticket.assignee_id is None:
        raise Conflict(_("Assign the ticket before starting work on it."), code="unassigned")
    elif name in ("wait_for_customer", "resume", "close"):
        method(at=now)
    else:
        method()
    _save(ticket, actor=actor, reason=transition_reason(name, comment))
    if name == "resolve":
        lifecycle.clocks().plan_update(ticket=ticket, due_at=None)  # the customer hears it is solved
    elif name == "reopen":
        lifecycle.clocks().plan_next_update(ticket=ticket, after=now)
    elif name == "close":
        lifecycle.ticket_closed(ticket)
    return ticket


def _cancel(ticket: Ticket, *, actor: User, comment: str, now: datetime, reason: str = "",
            merged_into: Ticket | None = None, **_ignored: Any) -> Ticket:
    if reason not in CancelReason.values:
        raise ValidationError({"reason": _("Say why: duplicate, spam or withdrawn.")})
    if reason == CancelReason.DUPLICATE:
        if merged_into is None:
            raise ValidationError(
                {"merged_into": _("Name the ticket this one duplicates; its messages move there.")}
            )
        return ticket_merge(duplicate=ticket, into=merged_into, actor=actor, comment=comment)
    ticket.cancel_reason = reason
    ticket.cancel(at=now)
    _save(ticket, actor=actor, reason=transition_reason("cancel", comment or reason))
    lifecycle.clocks().plan_update(ticket=ticket, due_at=None)
    return ticket


@transaction.atomic
def ticket_merge(*, duplicate: Ticket, into: Ticket, actor: User, comment: str = "") -> Ticket:
    """Cancel `duplicate` as a duplicate of `into` and move its timeline there."""
    _refuse_unknown_or_wrong_state(duplicate, "cancel")
    _require_can_work(duplicate, actor)
    # What the target is refuses the merge (409), not the shape of the request.
    if into.pk == duplicate.pk:
        raise Conflict(_("A ticket cannot duplicate itself."), code="merge_refused")
    # The messages move into the target: writing there needs the right to work on it.
    require_can_work_target(into, actor, field_name="merged_into")
    if into.customer_id != duplicate.customer_id:
        raise Conflict(_("Only tickets of the same customer can be merged."),
                       code="merge_refused")
    if into.state not in OPEN_STATES and into.state != TicketState.RESOLVED:
        raise Conflict(_("%(number)s is %(state)s and cannot take more messages.")
                       % {"number": into.number, "state": into.get_state_display()},
                       code="merge_refused")
    moved_reason = f"merge:{duplicate.number}->{into.number}"
    for message in duplicate.messages.all():
        message.ticket = into
        save_with_history(message, actor=actor, reason=moved_reason)
    for attachment in duplicate.attachments.all():
        attachment.ticket = into
        save_with_history(attachment, actor=actor, reason=moved_reason)
    duplicate.cancel_reason = CancelReason.DUPLICATE
    duplicate.merged_into = into
    duplicate.cancel(at=timezone.now())
    _save(duplicate, actor=actor,
          reason=transition_reason("cancel", comment or f"duplicate of {into.number}"))
    lifecycle.clocks().plan_update(ticket=duplicate, due_at=None)
    return duplicate


# --- escalation and priority: actions recorded like transitions --------------------------
@transaction.atomic
def ticket_escalate(*, ticket: Ticket, actor: User, level: str, reason: str) -> Ticket:
    """Raise the complaint level, move the ticket to the team for it and record why."""
    reason = _require_reason(reason)
    _require_open(ticket)
    if not actor.has_perm("tickets.escalate_ticket"):
        raise PermissionDenied(_("You may not escalate tickets."))
    _require_can_work(ticket, actor)
    if level not in ComplaintLevel.values or level == ComplaintLevel.NONE:
        raise ValidationError({"level": _("Choose L1, L2, L3 or special.")})
    if level == ticket.complaint_level or (
        level != ComplaintLevel.SPECIAL
        and COMPLAINT_LEVEL_RANK[level] <= COMPLAINT_LEVEL_RANK[ticket.complaint_level]
    ):
        raise Conflict(_("Escalation only goes up: the ticket is already %(level)s.")
                       % {"level": ticket.get_complaint_level_display()}, code="not_higher")

    ticket.complaint_level = level
    ticket.priority = escalated_priority(priority=ticket.priority, level=level)
    lifecycle.clocks().stamp_due_times(ticket, keep_first_response=True)
    team_code = escalation_team_code(level)
    target = Team.objects.filter(code=team_code, is_active=True).first() if team_code else None
    if target is not None and target.pk != ticket.team_id:
        ticket.team = target
        if ticket.assignee_id and not (
            target.members.filter(pk=ticket.assignee_id).exists()
        ):
            if ticket.state == TicketState.ASSIGNED:
                ticket.unassign()
            else:
                ticket.assignee = None
    _save(ticket, actor=actor, reason=f"escalate:{level} — {reason}")
    return ticket


@transaction.atomic
def ticket_change_priority(*, ticket: Ticket, actor: User, priority: int, reason: str) -> Ticket:
    """Change the priority (P0–P3) and record why."""
    reason = _require_reason(reason)
    _require_open(ticket)
    _require_can_work(ticket, actor)
    if priority not in Priority.values:
        raise ValidationError({"priority": _("Choose a priority from P0 to P3.")})
    if priority == ticket.priority:
        raise ValidationError({"priority": _("The ticket already has this priority.")})
    ticket.priority = priority
    lifecycle.clocks().stamp_due_times(ticket, keep_first_response=True)
    _save(ticket, actor=actor, reason=f"priority:P{priority} — {reason}")
    return ticket


@transaction.atomic
def ticket_update_details(*, ticket: Ticket, actor: User, reason: str = "edit", **changes: Any) -> Ticket:
    """Change descriptive fields (subject, category, type, tags) that carry no workflow."""
    allowed = {"subject", "category", "ticket_type", "description"}
    unknown = set(changes) - allowed - {"tags"}
    if unknown:
        raise ValidationError(_("These fields cannot be changed here: %(fields)s")
                              % {"fields": ", ".join(sorted(unknown))})
    if not (actor.has_role(Role.SUPERVISOR) or can_work_on(ticket, actor)):
        raise PermissionDenied(_("You may not act on this ticket."))
    for name, value in changes.items():
        if name != "tags":
            setattr(ticket, name, value)
    ticket.full_clean(exclude=["state", "number"])
    _save(ticket, actor=actor, reason=reason)
    if "tags" in changes:
        ticket.tags.set(changes["tags"])
    return ticket


@transaction.atomic
def ticket_close_automatically(*, ticket_id: int, at: datetime) -> Ticket:
    """Close a resolved ticket nobody objected to (the system acts, so no user is named)."""
    ticket: Ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
    if ticket.state == TicketState.RESOLVED:
        ticket.close(at=at)
        _save(ticket, actor=None, reason=transition_reason("close", "no objection in time"))
        lifecycle.ticket_closed(ticket)
    return ticket
