"""Time limits: the SLA policies, and when the customer of an open ticket next hears how it is going."""

from datetime import time

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from tickets.models.choices import ComplaintLevel, Priority
from tickets.models.ticket import Ticket


class SlaClock(models.TextChoices):
    CALENDAR = "calendar", _("Calendar hours (24/7)")
    WORKING = "working", _("Working hours (Chinese working days)")


class SlaPolicy(models.Model):
    """Time limits for one priority and complaint level."""

    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices)
    complaint_level = models.CharField(_("complaint level"), max_length=8,
                                       choices=ComplaintLevel.choices, default=ComplaintLevel.NONE)
    first_response_minutes = models.PositiveIntegerField(
        _("first response within (minutes)"), validators=[MinValueValidator(1)])
    resolution_minutes = models.PositiveIntegerField(
        _("resolution within (minutes)"), validators=[MinValueValidator(1)])
    update_interval_minutes = models.PositiveIntegerField(
        _("customer update every (minutes)"), default=8 * 60, validators=[MinValueValidator(1)])
    escalate_after_minutes = models.PositiveIntegerField(
        _("raise the priority when unresolved after (minutes)"), default=48 * 60,
        validators=[MinValueValidator(1)])
    clock = models.CharField(_("clock"), max_length=8, choices=SlaClock.choices,
                             default=SlaClock.CALENDAR)
    work_starts = models.TimeField(_("working day starts"), default=time(9))
    work_ends = models.TimeField(_("working day ends"), default=time(18))
    source = models.CharField(_("source"), max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["priority", "complaint_level"]
        constraints = [models.UniqueConstraint(fields=["priority", "complaint_level"],
                                               name="sla_policy_unique_priority_level")]

    def __str__(self) -> str:
        return f"P{self.priority} / {self.get_complaint_level_display()}"

    def clean(self) -> None:
        if self.clock == SlaClock.WORKING and self.work_starts >= self.work_ends:
            raise ValidationError({"work_ends": _("The working day must end after it starts.")})


class CustomerUpdateClock(models.Model):
    """The SLA sweep's cursor for customer progress updates, one row per ticket.

    It lives apart from the ticket because the sweep moves it for thousands of tickets every
    few minutes: in this narrow table each move touches two small indexes, on the ticket row
    it would touch all twenty of the ticket's. It is bookkeeping, not a decision, so it keeps
    no history; each update sent is recorded in the outbox. `due_at` is empty while no update
    is planned (the ticket is resolved, closed or cancelled).
    """

    ticket = models.OneToOneField(Ticket, models.CASCADE, primary_key=True,
                                  related_name="update_clock", verbose_name=_("ticket"))
    due_at = models.DateTimeField(_("next customer update due"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer update clock")
        verbose_name_plural = _("customer update clocks")
        default_permissions = ("view",)
        indexes = [
            models.Index(fields=["due_at"], name="update_clock_due_idx",
                         condition=Q(due_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.due_at}"
