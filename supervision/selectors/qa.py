"""Reads for the QA pages: the review queue and one review with what it is about."""

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from resolutions.models import Resolution
from supervision.models.qa import QaReview, QaState
from tickets.models import Message


def qa_review_list(*, user, state: str = QaState.PENDING, source: str = "") -> QuerySet[QaReview]:
    """Return the reviews of one state (and reason), oldest first, ready for the queue page."""
    reviews = QaReview.objects.filter(state=state).select_related(
        "ticket__customer", "ticket__team", "ticket__assignee", "reviewer", "survey")
    if source:
        reviews = reviews.filter(source=source)
    if state == QaState.COMPLETED:
        return reviews.order_by("-completed_at", "-id")
    return reviews.order_by("created_at", "id")


def qa_review_get(*, user, pk: int) -> QaReview:
    """Return one review with its ticket's timeline and resolutions, in a fixed query count."""
    reviews = QaReview.objects.select_related(
        "ticket__customer", "ticket__team", "ticket__assignee", "ticket__order", "reviewer",
        "survey",
    ).prefetch_related(
        Prefetch("ticket__messages", queryset=Message.objects.select_related("author")
                 .order_by("created_at", "id")),
        Prefetch("ticket__resolutions", queryset=Resolution.objects.order_by("created_at", "id")),
    )
    return get_object_or_404(reviews, pk=pk)
