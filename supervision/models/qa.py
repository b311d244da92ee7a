"""QA reviews (质检): a person scores how a closed ticket was handled."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

from supervision.models.survey import Survey
from tickets.models.ticket import Ticket


class QaSource(models.TextChoices):
    """Why a ticket is reviewed; each reason reviews a ticket at most once."""

    SAMPLE = "sample", _("Random sample")
    LOW_RATING = "low_rating", _("Low customer rating")
    COMPLAINT = "complaint", _("Complaint")


class QaState(models.TextChoices):
    PENDING = "pending", _("To review")
    COMPLETED = "completed", _("Reviewed")


# The four scored dimensions of a review, each 1 (poor) to 5 (excellent).
QA_SCORES = ("attitude", "accuracy", "policy_compliance", "archiving")


def _score(verbose_name):
    return models.PositiveSmallIntegerField(
        verbose_name, null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)])


class QaReview(ConcurrentTransitionMixin, models.Model):
    ticket = models.ForeignKey(Ticket, models.PROTECT, related_name="qa_reviews",
                               verbose_name=_("ticket"))
    source = models.CharField(_("reason for review"), max_length=12, choices=QaSource.choices)
    state = FSMField(_("state"), max_length=12, choices=QaState.choices,
                     default=QaState.PENDING, protected=True)
    survey = models.ForeignKey(Survey, models.SET_NULL, null=True, blank=True,
                               related_name="qa_reviews", verbose_name=_("survey"))
    # The local day whose closed tickets the sampling job drew this one from.
    sampled_on = models.DateField(_("sampled on"), null=True, blank=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                 blank=True, related_name="qa_reviews",
                                 verbose_name=_("reviewer"))
    attitude = _score(_("attitude (1–5)"))
    accuracy = _score(_("accuracy (1–5)"))
    policy_compliance = _score(_("policy compliance (1–5)"))
    archiving = _score(_("archiving (1–5)"))
    findings = models.TextField(_("findings"), blank=True, max_length=4000)
    created_at = models.DateTimeField(_("created at"))
    completed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("QA review")
        verbose_name_plural = _("QA reviews")
        ordering = ["state", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "source"], name="qa_review_once_per_source"),
        ]
        indexes = [models.Index(fields=["state", "created_at"], name="qa_review_queue_idx")]

    def __str__(self) -> str:
        return f"{self.ticket.number} · {self.get_source_display()}"

    @property
    def average_score(self):
        scores = [getattr(self, name) for name in QA_SCORES]
        if any(score is None for score in scores):
            return None
        return sum(scores) / len(scores)

    @transition(field=state, source=QaState.PENDING, target=QaState.COMPLETED)
    def complete(self, *, reviewer, at) -> None:
        """Record the review as done by `reviewer`."""
        self.reviewer = reviewer
        self.completed_at = at
