"""QA reviews: created for low ratings, complaints and a daily random sample; scored by QA."""

import math
import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition

from core.models.user import User
from core.services.audit import save_with_history
from core.services.exceptions import Conflict
from supervision.models.qa import QA_SCORES, QaReview, QaSource, QaState
from supervision.models.survey import Survey
from tickets.models import ComplaintLevel, Ticket, TicketState, TicketType

# A rating below this many stars is always reviewed by a person (100 %).
LOW_RATING_BELOW = 3


def _create(*, ticket_id: int, source: str, survey: Survey | None = None,
            sampled_on: date | None = None) -> QaReview | None:
    """Create the review unless the ticket already has one for this reason."""
    if QaReview.objects.filter(ticket_id=ticket_id, source=source).exists():
        return None
    review: QaReview = QaReview(ticket_id=ticket_id, source=source, survey=survey,
                                sampled_on=sampled_on, created_at=timezone.now())
    save_with_history(review, actor=None, reason=f"qa:{source}")
    return review


def qa_review_for_low_rating(*, survey: Survey) -> QaReview | None:
    """Queue a review of a ticket whose customer rated it below three stars."""
    if survey.csat is None or survey.csat >= LOW_RATING_BELOW:
        return None
    return _create(ticket_id=survey.ticket_id, source=QaSource.LOW_RATING, survey=survey)


def _local_day_bounds(day: date) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, start + timedelta(days=1)


def sample_rate() -> Decimal:
    """Return the share of closed tickets sampled each day (settings.QA_SAMPLE_PERCENT)."""
    return Decimal(str(settings.QA_SAMPLE_PERCENT)) / 100


@transaction.atomic
def qa_sample_day(*, day: date, rate: Decimal | None = None) -> dict[str, int]:
    """Queue the reviews for tickets closed on the local `day`; running it again adds nothing.

    Every complaint and every low rating is reviewed; of the other closed tickets a random
    share `rate` is drawn, seeded by the day, so a second run draws the same tickets.
    """
    rate = sample_rate() if rate is None else rate
    if not Decimal(0) <= rate <= Decimal(1):
        raise ValidationError({"rate": _("The sampling rate must lie between 0 and 100 %.")})
    start, end = _local_day_bounds(day)
    closed = Ticket.objects.filter(state=TicketState.CLOSED, closed_at__gte=start,
                                   closed_at__lt=end)
    created = {"complaint": 0, "low_rating": 0, "sample": 0}

    is_complaint = Q(ticket_type=TicketType.COMPLAINT) | ~Q(complaint_level=ComplaintLevel.NONE)
    for ticket_id in closed.filter(is_complaint).values_list("id", flat=True).order_by("id"):
        if _create(ticket_id=ticket_id, source=QaSource.COMPLAINT, sampled_on=day):
            created["complaint"] += 1

    # Normally queued when the answer arrives; this catches any answer that missed it.
    low = Survey.objects.filter(answered_at__gte=start, answered_at__lt=end,
                                csat__lt=LOW_RATING_BELOW)
    for survey in low.order_by("id"):
        if qa_review_for_low_rating(survey=survey):
            created["low_rating"] += 1

    if not QaReview.objects.filter(source=QaSource.SAMPLE, sampled_on=day).exists():
        candidates = list(closed.exclude(is_complaint).values_list("id", flat=True).order_by("id"))
        wanted = math.ceil(len(candidates) * rate) if candidates else 0
        # Seeded by the day: the draw is random across days but repeatable for one day.
        drawn = random.Random(day.toordinal()).sample(candidates, wanted)  # noqa: S311
        for ticket_id in sorted(drawn):
            if _create(ticket_id=ticket_id, source=QaSource.SAMPLE, sampled_on=day):
                created["sample"] += 1
    return created


def _check_scores(scores: dict) -> dict[str, int]:
    errors, clean = {}, {}
    for name in QA_SCORES:
        value = scores.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
            errors[name] = _("Choose a score from 1 to 5.")
        else:
            clean[name] = value
    if errors:
        raise ValidationError(errors)
    return clean


@transaction.atomic
def qa_review_submit(*, review: QaReview, actor: User, findings: str = "", **scores: Any) -> QaReview:
    """Score a review; its reviewer may amend it later, nobody else may touch it."""
    if not actor.has_perm("supervision.change_qareview"):
        raise PermissionDenied(_("Only QA inspectors score reviews."))
    review = QaReview.objects.select_for_update().get(pk=review.pk)
    if review.reviewer_id is not None and review.reviewer_id != actor.pk:
        raise PermissionDenied(_("This review belongs to another inspector."))
    clean = _check_scores(scores)
    for name, value in clean.items():
        setattr(review, name, value)
    review.findings = findings.strip()[:4000]
    if review.state == QaState.PENDING:
        review.complete(reviewer=actor, at=timezone.now())
        reason = "qa:complete"
    else:
        reason = "qa:amend"
    try:
        save_with_history(review, actor=actor, reason=reason)
    except ConcurrentTransition as exc:
        raise Conflict(_("The review was changed by someone else in the meantime. Reload it "
                         "and try again."), code="stale") from exc
    return review
