"""Every write to tickets and their timeline. Views, the API and admin call only these."""

from tickets.services.attachments import attachment_add
from tickets.services.customers import customer_adopt_reported
from tickets.services.intake import ticket_intake
from tickets.services.messages import message_add
from tickets.services.resolutions import (
    RESOLUTION_TRANSITIONS,
    approval_limit,
    can_approve,
    resolution_accept,
    resolution_approve,
    resolution_available_transitions,
    resolution_cancel,
    resolution_execute,
    resolution_propose,
    resolution_receive_return,
    resolution_record_return,
    resolution_reject,
    resolution_transition,
    ticket_decision,
)
from tickets.services.routing import ticket_claim_next
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
    "RESOLUTION_TRANSITIONS",
    "TRANSITIONS",
    "TransitionSpec",
    "approval_limit",
    "attachment_add",
    "can_approve",
    "customer_adopt_reported",
    "message_add",
    "resolution_accept",
    "resolution_approve",
    "resolution_available_transitions",
    "resolution_cancel",
    "resolution_execute",
    "resolution_propose",
    "resolution_receive_return",
    "resolution_record_return",
    "resolution_reject",
    "resolution_transition",
    "ticket_assign",
    "ticket_available_transitions",
    "ticket_change_priority",
    "ticket_claim_next",
    "ticket_close_automatically",
    "ticket_create",
    "ticket_decision",
    "ticket_escalate",
    "ticket_intake",
    "ticket_merge",
    "ticket_transition",
    "ticket_update_details",
    "transition_reason",
]
