"""Daily roll-ups behind the dashboard: sums per day, team and agent, and per policy rule.

Rows hold sums and counts, never averages, so a week, a month or a team is the sum of its
days and every rate is computed from the summed parts (see reporting/services/metrics.py).
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from shop.models import MoneyOptions
from tickets.models.team import Team

MONEY: MoneyOptions = {"max_digits": 14, "decimal_places": 2}


def _count(verbose_name):
    return models.PositiveIntegerField(verbose_name, default=0)


def _seconds(verbose_name):
    return models.BigIntegerField(verbose_name, default=0)


class DailyAgentMetrics(models.Model):
    """One local day's figures of one agent in one team (either may be empty)."""

    day = models.DateField(_("day"))
    team = models.ForeignKey(Team, models.CASCADE, null=True, blank=True, related_name="+",
                             verbose_name=_("team"))
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, null=True, blank=True,
                              related_name="+", verbose_name=_("agent"))
    created = _count(_("tickets created"))
    first_responses = _count(_("first responses"))
    first_response_seconds = _seconds(_("first response time, seconds in total"))
    closed = _count(_("tickets closed"))
    handling_seconds = _seconds(_("handling time, seconds in total"))
    first_contact_resolved = _count(_("resolved at first contact"))
    reopened = _count(_("closed after a reopening"))
    sla_met = _count(_("closed within the SLA"))
    archived_ok = _count(_("closed with complete archiving"))
    surveys = _count(_("survey answers"))
    csat_sum = _count(_("satisfaction points"))
    csat_satisfied = _count(_("satisfied answers (4 or 5)"))
    speed_sum = _count(_("speed points"))
    attitude_sum = _count(_("attitude points"))
    expertise_sum = _count(_("expertise points"))
    promoters = _count(_("promoters (NPS 9–10)"))
    detractors = _count(_("detractors (NPS 0–6)"))

    class Meta:
        verbose_name = _("daily agent figures")
        verbose_name_plural = _("daily agent figures")
        ordering = ["day"]
        indexes = [models.Index(fields=["day", "agent"], name="metrics_day_agent_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.team_id or '—'} {self.agent_id or '—'}"


class DailyRuleTotals(models.Model):
    """One local day's completed resolutions of one policy rule: what was paid out."""

    day = models.DateField(_("day"))
    rule_name = models.CharField(_("rule name"), max_length=120, blank=True)
    kind = models.CharField(_("kind"), max_length=20)
    resolutions = _count(_("resolutions completed"))
    refund_total = models.DecimalField(_("refunds"), **MONEY, default=Decimal("0.00"))
    compensation_total = models.DecimalField(_("compensation"), **MONEY,
                                             default=Decimal("0.00"))
    coupon_total = models.DecimalField(_("coupons"), **MONEY, default=Decimal("0.00"))

    class Meta:
        verbose_name = _("daily payout totals by rule")
        verbose_name_plural = _("daily payout totals by rule")
        ordering = ["day", "rule_name"]
        indexes = [models.Index(fields=["day"], name="metrics_rule_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.rule_name}"
