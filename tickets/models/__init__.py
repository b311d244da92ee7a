from tickets.models.choices import (
    COMPLAINT_LEVEL_RANK,
    OPEN_STATES,
    TERMINAL_STATES,
    CancelReason,
    Category,
    Channel,
    Collaborator,
    ComplaintLevel,
    ItemCondition,
    Priority,
    RequestedResolution,
    RequestReason,
    TicketState,
    TicketType,
)
from tickets.models.intake import IntakeKey, TicketNumberSequence
from tickets.models.legal_hold import LegalHold
from tickets.models.presence import PRESENCE_TTL, TicketViewer
from tickets.models.team import Team
from tickets.models.ticket import LAST_MESSAGE_EXCERPT, Tag, Ticket, can_work_on, user_team_ids
from tickets.models.timeline import Attachment, EvidenceKind, Message, MessageKind

__all__ = [
    "COMPLAINT_LEVEL_RANK",
    "LAST_MESSAGE_EXCERPT",
    "OPEN_STATES",
    "PRESENCE_TTL",
    "TERMINAL_STATES",
    "Attachment",
    "CancelReason",
    "Category",
    "Channel",
    "Collaborator",
    "ComplaintLevel",
    "EvidenceKind",
    "IntakeKey",
    "ItemCondition",
    "LegalHold",
    "Message",
    "MessageKind",
    "Priority",
    "RequestReason",
    "RequestedResolution",
    "Tag",
    "Team",
    "Ticket",
    "TicketNumberSequence",
    "TicketState",
    "TicketType",
    "TicketViewer",
    "can_work_on",
    "user_team_ids",
]
