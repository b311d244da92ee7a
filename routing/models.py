"""Who works what: agent profiles and routing rules (admin tables), and the configuration version."""


from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.models.roles import WORKING_ROLES
from shop.models import CustomerTier
from tickets.models.choices import Category, Channel, Priority, RequestReason
from tickets.models.team import Team


class Skill(models.TextChoices):
    AFTER_SALES = "after_sales", _("After-sales requests")
    LOGISTICS = "logistics", _("Logistics")
    PAYMENT = "payment", _("Payment and refunds")
    QUALITY = "quality", _("Product quality")
    TECHNICAL = "technical", _("Technical faults")
    COMPLAINTS = "complaints", _("Complaints")
    VIP = "vip", _("VIP customers")
    RISK = "risk", _("Risk and legal")


class AgentProfile(models.Model):
    """How much and what kind of work an agent takes."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE,
                                related_name="agent_profile", verbose_name=_("user"))
    skills = models.JSONField(_("skills"), default=list, blank=True)
    capacity = models.PositiveSmallIntegerField(
        _("capacity"), default=20,
        help_text=_("Most open tickets the agent is given by routing at once."))
    is_available = models.BooleanField(
        _("available"), default=True, help_text=_("Off duty or on a break: routing skips them."))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("agent profile")
        verbose_name_plural = _("agent profiles")

    def __str__(self) -> str:
        return str(self.user)

    def clean(self) -> None:
        unknown = set(self.skills or []) - set(Skill.values)
        if unknown:
            raise ValidationError({"skills": _("Unknown skills: %(skills)s")
                                   % {"skills": ", ".join(sorted(unknown))}})


def split_keywords(keywords: str) -> list[str]:
    """Return the words of a keyword list, separated by ASCII or full-width commas."""
    return [word.strip() for word in keywords.replace("，", ",").split(",") if word.strip()]


def team_has_working_member(team: Team) -> bool:
    """Whether an active user holding a working role is a member of the team: a team without
    one leaves its tickets to nobody but the supervisors."""
    return team.members.filter(is_active=True,
                               groups__name__in=[str(role) for role in WORKING_ROLES]).exists()


class RoutingRule(models.Model):
    """Conditions (keywords, category, request reason, channel, customer tier) → category,
    team, skill and priority.

    A rule matched by what the request says it is (its category or request reason, chosen
    by the customer or the agent) decides before a rule matched only by words in the text;
    within each kind, the lower position decides (routing.services.assignment.classify).
    """

    name = models.CharField(_("name"), max_length=120)
    order = models.PositiveIntegerField(_("position"),
                                        help_text=_("Lower numbers are checked first."))
    is_active = models.BooleanField(_("active"), default=True)
    keywords = models.CharField(
        _("keywords"), max_length=300, blank=True,
        help_text=_("Separated by commas; any one found in the subject or description matches."))
    categories = models.JSONField(_("when the category is"), default=list, blank=True)
    request_reasons = models.JSONField(
        _("when the request reason is"), default=list, blank=True,
        help_text=_("The reason the customer gives for an after-sales request. A rule matched "
                    "by the category or the request reason wins over rules matched only by "
                    "keywords."))
    channels = models.JSONField(_("when the channel is"), default=list, blank=True)
    customer_tiers = models.JSONField(_("when the customer tier is"), default=list, blank=True)
    set_category = models.CharField(_("set the category to"), max_length=24,
                                    choices=Category.choices, blank=True)
    team = models.ForeignKey(Team, models.PROTECT, null=True, blank=True,
                             related_name="routing_rules", verbose_name=_("route to team"))
    required_skill = models.CharField(_("required skill"), max_length=16, choices=Skill.choices,
                                      blank=True)
    raise_priority_to = models.PositiveSmallIntegerField(
        _("raise the priority to at least"), choices=Priority.choices, null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.order} · {self.name}"

    @property
    def keyword_list(self) -> list[str]:
        return split_keywords(self.keywords)

    def clean(self) -> None:
        errors: dict[str, str | Promise] = {}
        for field, choices in (("categories", Category.values),
                               ("request_reasons", RequestReason.values),
                               ("channels", Channel.values),
                               ("customer_tiers", CustomerTier.values)):
            unknown = set(getattr(self, field) or []) - set(choices)
            if unknown:
                errors[field] = _("Unknown values: %(values)s") % {"values": ", ".join(unknown)}
        if not (self.keyword_list or self.categories or self.request_reasons or self.channels
                or self.customer_tiers):
            errors["keywords"] = _("Give at least one condition: keywords, category, request "
                                   "reason, channel or customer tier.")
        if not (self.set_category or self.team_id or self.required_skill
                or self.raise_priority_to is not None):
            errors["team"] = _("Say what the rule does: a category, a team, a skill or a "
                               "priority.")
        # An active rule may only send work to a team someone works in: otherwise its tickets
        # are seen by supervisors alone. (At run time an emptied team falls back to the
        # default team; see routing.services.assignment.staff.)
        if self.is_active and self.team is not None and not team_has_working_member(self.team):
            errors["team"] = _("Nobody works in the team %(team)s: add an active agent to it "
                               "first, or route to another team.") % {"team": self.team}
        if errors:
            raise ValidationError(errors)


class RoutingConfigVersion(models.Model):
    """A counter that moves whenever a routing rule, an SLA policy or a team changes.

    Intake keeps those tables in memory per process (routing.services.config) and compares
    this one row before each use. Database triggers bump it (migration 0022), so every
    writer is seen: the admin, a data migration, a bulk UPDATE, another worker process.
    Each change moves it to a number never used before (see the migration).
    """

    version = models.BigIntegerField(_("version"), default=0)

    class Meta:
        verbose_name = _("routing configuration version")
        verbose_name_plural = _("routing configuration versions")
        default_permissions = ()

    def __str__(self) -> str:
        return str(self.version)
