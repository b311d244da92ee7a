"""Major incidents that group tickets, and legal holds that freeze a ticket's evidence."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from tickets.models.ticket import Ticket


class IncidentKind(models.TextChoices):
    OUTAGE = "outage", _("Site-wide failure")
    GROUP_COMPLAINT = "group_complaint", _("Group complaint")
    PUBLIC_OPINION = "public_opinion", _("Public-opinion event")
    LEGAL = "legal", _("Legal threat or regulator")


class IncidentState(models.TextChoices):
    OPEN = "open", pgettext_lazy("incident state", "Open")
    CLOSED = "closed", pgettext_lazy("incident state", "Closed")


class Incident(models.Model):
    """A major incident: many tickets with one cause, handled and answered together."""

    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=IncidentKind.choices)
    state = models.CharField(_("state"), max_length=8, choices=IncidentState.choices,
                             default=IncidentState.OPEN, editable=False)
    description = models.TextField(_("description"), blank=True, max_length=4000)
    tickets = models.ManyToManyField(Ticket, blank=True, related_name="incidents",
                                     verbose_name=_("tickets"))
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT,
                                  related_name="incidents_opened", verbose_name=_("opened by"))
    opened_at = models.DateTimeField(_("opened at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    history = HistoricalRecords(m2m_fields=[tickets])

    class Meta:
        verbose_name = _("major incident")
        verbose_name_plural = _("major incidents")
        ordering = ["-opened_at"]

    def __str__(self) -> str:
        return self.title


class IncidentBroadcast(models.Model):
    """One message sent to every customer affected by an incident, through the outbox."""

    incident = models.ForeignKey(Incident, models.PROTECT, related_name="broadcasts",
                                 verbose_name=_("incident"))
    body = models.TextField(_("message"), max_length=500)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT,
                                related_name="incident_broadcasts", verbose_name=_("sent by"))
    sent_at = models.DateTimeField(_("sent at"))
    recipients = models.PositiveIntegerField(_("customers messaged"), default=0)

    class Meta:
        verbose_name = _("incident message")
        verbose_name_plural = _("incident messages")
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return f"{self.incident} · {self.sent_at:%Y-%m-%d %H:%M}"
