"""The ticket timeline: customer messages, replies (with their channel), phone call summaries
and internal notes."""


from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models.user import User
from core.services.audit import save_with_history
from core.services.exceptions import Conflict
from tickets.models import OPEN_STATES, Channel, Message, MessageKind, Ticket, TicketState
from tickets.services import lifecycle
from tickets.services.tickets import (
    _require_can_work,
    _save,
    track_conversation,
    transition_reason,
)


def _new_message(ticket: Ticket, *, kind: str, body: str, channel: str, author: User | None,
                 at: datetime) -> Message:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": _("Write something first.")})
    if channel and channel not in Channel.values:
        raise ValidationError({"channel": _("Unknown channel.")})
    message = Message(ticket=ticket, kind=kind, channel=channel, body=body, author=author,
                      created_at=at)
    save_with_history(message, actor=author, reason=f"message:{kind}")
    changed = track_conversation(ticket, kind=kind, body=body, at=at)
    if changed and kind != MessageKind.REPLY:
        # Derived from the message just saved (which has its own history row), so no ticket
        # history row of its own; a reply saves the ticket anyway, with its history.
        Ticket.objects.filter(pk=ticket.pk).update(
            **{name: getattr(ticket, name) for name in changed})
    return message


@transaction.atomic
def message_add(*, ticket: Ticket, actor: User, kind: str, body: str, channel: str = "") -> Message:
    """Add a message to the timeline and move the ticket along as the message implies.

    A reply to the customer is the first response if none was given yet (an unassigned
    ticket is claimed by whoever answers it), and it restarts the customer-update clock.
    A customer message (only a channel integration records one) or an agent's summary of
    the customer's phone call resumes a ticket that waits for the customer. Every message
    names its author: the integration or the agent.
    """
    if kind not in MessageKind.values:
        raise ValidationError({"kind": _("Unknown message kind.")})
    if kind == MessageKind.INBOUND and not actor.has_perm("tickets.record_inbound_message"):
        # Staff never speak for the customer: what a customer said on the phone is the
        # agent's phone call summary, with the agent as its author.
        raise PermissionDenied(_("Customer messages come only from the channels. Record what "
                                 "the customer said on the phone as a phone call summary."))
    if ticket.state not in OPEN_STATES and ticket.state != TicketState.RESOLVED:
        raise Conflict(_("The ticket is %(state)s; messages can no longer be added.")
                       % {"state": ticket.get_state_display()}, code="not_open")
    now = timezone.now()

    if kind == MessageKind.INBOUND:
        message = _new_message(ticket, kind=kind, body=body, channel=channel or ticket.channel,
                               author=actor, at=now)
        _resume_if_waiting(ticket, actor=actor, now=now, why="customer replied")
        return message

    _require_can_work(ticket, actor)
    if kind == MessageKind.NOTE:
        return _new_message(ticket, kind=kind, body=body, channel="", author=actor, at=now)
    if kind == MessageKind.PHONE_SUMMARY:
        message = _new_message(ticket, kind=kind, body=body, channel=Channel.PHONE,
                               author=actor, at=now)
        # The customer did call: the wait for them is over, and the agent is who says so.
        _resume_if_waiting(ticket, actor=actor, now=now, why="customer called")
        return message

    message = _new_message(ticket, kind=kind, body=body, channel=channel or ticket.channel,
                           author=actor, at=now)
    # Each implied transition gets its own history row, as if the agent had clicked it.
    if ticket.state == TicketState.NEW:
        ticket.assignee = actor
        ticket.assign()
        _save(ticket, actor=actor, reason=transition_reason("assign", "claimed by replying"))
    if ticket.state == TicketState.ASSIGNED and ticket.assignee_id == actor.pk:
        ticket.respond()
        _save(ticket, actor=actor, reason=transition_reason("respond"))
    reason = "reply"
    if ticket.first_response_at is None:
        ticket.first_response_at = now
        reason = "first_response"
    _save(ticket, actor=actor, reason=reason)
    if ticket.state in OPEN_STATES:
        lifecycle.clocks().plan_next_update(ticket=ticket, after=now)
    return message


def _resume_if_waiting(ticket: Ticket, *, actor: User, now: datetime, why: str) -> None:
    if ticket.state == TicketState.PENDING_CUSTOMER:
        ticket.resume(at=now)
        _save(ticket, actor=actor, reason=transition_reason("resume", why))
