"""Classify a new ticket and pick who gets it, from the routing-rule table.

Rules are checked in order: the first matching rule sets the category (when the channel gave
none), the team and the skill; every matching rule may raise the priority (VIP customers,
safety hazards and logistics exceptions jump the queue). The ticket then goes to the
least-loaded available agent of the team who has the skill and free capacity, or stays in
the team queue.
"""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce

from cs_console.roles import WORKING_ROLES
from tickets.models import OPEN_STATES, Category, RoutingRule, Team, Ticket
from tickets.routing_config import RoutingConfig, routing_config

DEFAULT_CAPACITY = 20


@dataclass
class Routing:
    category: str
    priority: int
    team: Team | None = None
    skill: str = ""
    rules: list[str] = field(default_factory=list)


def rule_matches(rule: RoutingRule, *, text: str, category: str, channel: str, tier: str) -> bool:
    if rule.keyword_list and not any(word.lower() in text for word in rule.keyword_list):
        return False
    if rule.categories and category not in rule.categories:
        return False
    if rule.channels and channel not in rule.channels:
        return False
    return not (rule.customer_tiers and tier not in rule.customer_tiers)


def classify(*, subject: str, description: str, category: str, channel: str, tier: str,
             priority: int, config: RoutingConfig | None = None) -> Routing:
    """Return the category, team, skill and priority the routing table gives a request.

    The table comes from `config`, else from tickets.routing_config (kept in memory while
    its version holds).
    """
    config = config or routing_config()
    text = f"{subject}\n{description}".lower()
    result = Routing(category=category or Category.OTHER, priority=priority)
    decided = False
    for rule in config.rules:
        if not rule_matches(rule, text=text, category=result.category, channel=channel,
                            tier=tier):
            continue
        result.rules.append(rule.name)
        if rule.raise_priority_to is not None:
            result.priority = min(result.priority, rule.raise_priority_to)
        if decided:
            continue
        decided = True
        if rule.set_category and result.category == Category.OTHER:
            result.category = rule.set_category
        result.team = rule.team
        result.skill = rule.required_skill
    if result.team is None:
        result.team = config.default_team
    return result


def pick_agent(*, team: Team, skill: str = ""):
    """Return the least-loaded available member of the team with the skill and free capacity."""
    workers = get_user_model().objects.filter(groups__name__in=WORKING_ROLES).values("pk")
    # Count each member's open tickets in a correlated subquery on (assignee, state): it
    # reads the open part of the assignee index only. Joining "assigned_tickets" and
    # filtering afterwards would read every ticket the member ever held, so intake would
    # slow down as closed history grows.
    open_tickets = (
        Ticket.objects.filter(assignee=OuterRef("pk"), state__in=OPEN_STATES)
        .order_by().values("assignee").annotate(count=Count("*")).values("count")
    )
    # The profile (skills, capacity, availability) comes in the same query.
    members = (
        team.members.filter(is_active=True, pk__in=workers)
        .select_related("agent_profile")
        .annotate(open_tickets=Coalesce(Subquery(open_tickets), 0))
        .order_by("open_tickets", "id")
    )
    for member in members:
        profile = getattr(member, "agent_profile", None)  # None: no profile row
        if profile is not None and not profile.is_available:
            continue
        capacity = profile.capacity if profile else DEFAULT_CAPACITY
        if member.open_tickets >= capacity:
            continue
        if skill and skill not in (profile.skills if profile else []):
            continue
        return member
    return None
