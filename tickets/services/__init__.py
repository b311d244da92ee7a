"""Every write to tickets and their timeline. Views, the API and admin call only these."""

from tickets.services.attachments import attachment_add
from tickets.services.customers import customer_adopt_reported
from tickets.services.intake import ticket_intake
from tickets.services.messages import message_add
from tickets.services.presence import presence_touch
from tickets.services.tickets import (
    TRANSITIONS,
    TransitionSpec,
    ticket_assign,
    ticket_available_transitions,
    ticket_change_priority,
    ticket_close_automatically,
    ticket_create,
    ticket_escalate,
    ticket_merge,
    ticket_transition,
    ticket_update_details,
    transition_reason,
)

__all__ = [
    "TRANSITIONS",
    "TransitionSpec",
    "attachment_add",
    "customer_adopt_reported",
    "message_add",
    "presence_touch",
    "ticket_assign",
    "ticket_available_transitions",
    "ticket_change_priority",
    "ticket_close_automatically",
    "ticket_create",
    "ticket_escalate",
    "ticket_intake",
    "ticket_merge",
    "ticket_transition",
    "ticket_update_details",
    "transition_reason",
]
