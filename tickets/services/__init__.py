"""Every write to tickets and their timeline. Views, the API and admin call only these."""

from .attachments import attachment_add
from .intake import ticket_intake
from .messages import message_add
from .tickets import (
    TRANSITIONS,
    TransitionSpec,
    ticket_assign,
    ticket_available_transitions,
    ticket_change_priority,
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
    "message_add",
    "ticket_assign",
    "ticket_available_transitions",
    "ticket_change_priority",
    "ticket_create",
    "ticket_escalate",
    "ticket_intake",
    "ticket_merge",
    "ticket_transition",
    "ticket_update_details",
    "transition_reason",
]
