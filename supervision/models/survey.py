"""Satisfaction surveys: one tokenised invitation per closed ticket, answered once."""

import secrets
from datetime import timedelta

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models.ticket import Ticket

SURVEY_VALID_FOR = timedelta(days=7)


def new_token() -> str:
    return secrets.token_urlsafe(24)


def _score(verbose_name, low=1, high=5):
    return models.PositiveSmallIntegerField(
        verbose_name, null=True, blank=True,
        validators=[MinValueValidator(low), MaxValueValidator(high)])


class Survey(models.Model):
    ticket = models.OneToOneField(Ticket, models.CASCADE, related_name="survey",
                                  verbose_name=_("ticket"))
    # Unguessable and single-purpose: whoever holds the link may answer, once.
    token = models.CharField(_("token"), max_length=64, unique=True, default=new_token,
                             editable=False)
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    csat = _score(_("overall satisfaction (1–5)"))
    speed = _score(_("speed (1–5)"))
    attitude = _score(_("attitude (1–5)"))
    expertise = _score(_("expertise (1–5)"))
    nps = _score(_("would recommend us (0–10)"), low=0, high=10)
    comment = models.TextField(_("comment"), blank=True, max_length=2000)

    class Meta:
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        indexes = [models.Index(fields=["answered_at"], name="survey_answered_idx")]

    def __str__(self) -> str:
        return f"{self.ticket.number}: {self.csat or '—'}"

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at
