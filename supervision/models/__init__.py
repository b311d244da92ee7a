from supervision.models.incident import (
    Incident,
    IncidentBroadcast,
    IncidentKind,
    IncidentState,
)
from supervision.models.privacy import REVEAL_REASON_MAX_LENGTH, AppendOnlyError, ContactReveal
from supervision.models.qa import QA_SCORES, QaReview, QaSource, QaState
from supervision.models.survey import SURVEY_VALID_FOR, Survey

__all__ = [
    "QA_SCORES",
    "REVEAL_REASON_MAX_LENGTH",
    "SURVEY_VALID_FOR",
    "AppendOnlyError",
    "ContactReveal",
    "Incident",
    "IncidentBroadcast",
    "IncidentKind",
    "IncidentState",
    "QaReview",
    "QaSource",
    "QaState",
    "Survey",
]
