"""Satisfaction surveys: sent when a ticket closes, answered once through a tokenised link."""

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.services.exceptions import Conflict
from notifications.services import delivery as notifications
from supervision.models.survey import SURVEY_VALID_FOR, Survey
from supervision.services.qa import qa_review_for_low_rating
from tickets.models import Ticket

SCORES = {"csat": (1, 5), "speed": (1, 5), "attitude": (1, 5), "expertise": (1, 5),
          "nps": (0, 10)}


def survey_on_close(ticket: Ticket) -> None:
    """A closed ticket sends its survey (registered with tickets.services.lifecycle)."""
    survey_send(ticket=ticket)


def survey_send(*, ticket: Ticket) -> Survey | None:
    """Invite the customer to rate a closed ticket; once per ticket."""
    if Survey.objects.filter(ticket=ticket).exists():
        return None
    now = timezone.now()
    survey = Survey.objects.create(ticket=ticket, sent_at=now, expires_at=now + SURVEY_VALID_FOR)
    if ticket.customer.phone:
        link = settings.PUBLIC_BASE_URL.rstrip("/") + reverse("survey", args=[survey.token])
        notifications.notify(
            template="survey.invite", channel="sms", ticket=ticket, customer=ticket.customer,
            address=ticket.customer.phone, context={"link": link},
            dedupe_key=f"survey:{ticket.pk}",
        )
    return survey


@transaction.atomic
def survey_answer(*, survey: Survey, comment: str = "", **scores: Any) -> Survey:
    """Record the customer's answer; a link answers once and only while it is valid.

    A rating below three stars queues a QA review in the same transaction, so no low
    rating is ever left unreviewed.
    """
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    if survey.answered_at is not None:
        raise Conflict(_("This survey has already been answered. Thank you!"), code="answered")
    if survey.is_expired:
        raise Conflict(_("This survey link has expired."), code="expired")
    errors = {}
    for name, (low, high) in SCORES.items():
        value = scores.get(name)
        if value is None or not low <= value <= high:
            errors[name] = _("Choose a score from %(low)d to %(high)d.") % {"low": low,
                                                                         "high": high}
        else:
            setattr(survey, name, value)
    if errors:
        raise ValidationError(errors)
    survey.comment = comment.strip()[:2000]
    survey.answered_at = timezone.now()
    survey.save()
    qa_review_for_low_rating(survey=survey)
    return survey
