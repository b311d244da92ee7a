"""Classify a new ticket and pick who gets it, from the routing-rule table.

Rules are checked in order: the first matching rule sets the category (when the channel gave
none), the team and the skill; every matching rule may raise the priority (VIP customers,
safety hazards and logistics exceptions jump the queue). The ticket then goes to the
least-loaded available agent of the team who has the skill and free capacity, or stays in
the team queue.
"""

import functools
import json
from collections.abc import Sized
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connections

from core.models.roles import WORKING_ROLES
from core.models.user import User
from routing.models import AgentProfile, RoutingRule, split_keywords
from routing.services.config import RoutingConfig, routing_config
from tickets.models import OPEN_STATES, Category, Team, Ticket
from tickets.services.lifecycle import Routed

DEFAULT_CAPACITY = 20


@dataclass
class Routing:
    category: str
    priority: int
    team: Team | None = None
    skill: str = ""
    rules: list[str] = field(default_factory=list)


@functools.lru_cache(maxsize=256)
def _words_to_find(keywords: str) -> tuple[str, ...]:
    """Return a rule's keywords in lower case.

    Cached by the keyword text: intake and the bulk loader match every ticket against every
    rule, and splitting the text each time cost more than the matching.
    """
    return tuple(word.lower() for word in split_keywords(keywords))


def rule_matches(rule: RoutingRule, *, text: str, category: str, channel: str, tier: str) -> bool:
    words = _words_to_find(rule.keywords)
    if words and not any(word in text for word in words):
        return False
    if rule.categories and category not in rule.categories:
        return False
    if rule.channels and channel not in rule.channels:
        return False
    return not (rule.customer_tiers and tier not in rule.customer_tiers)


def classify(*, subject: str, description: str, category: str, channel: str, tier: str,
             priority: int, config: RoutingConfig | None = None) -> Routing:
    """Return the category, team, skill and priority the routing table gives a request.

    The table comes from `config`, else from routing.services.config (kept in memory while
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


def route(*, subject: str, description: str, category: str, channel: str, tier: str,
          priority: int) -> Routed:
    """Routing's answer at intake (tickets.services.lifecycle.Router): `classify` on the
    configuration in memory, handed on so the SLA clocks use the same one."""
    config = routing_config()
    routed = classify(subject=subject, description=description, category=category,
                      channel=channel, tier=tier, priority=priority, config=config)
    return Routed(category=routed.category, priority=routed.priority, team=routed.team,
                  skill=routed.skill, rules=routed.rules, config=config)


def pick_agent(*, team: Team, skill: str = "") -> User | None:
    """Return the least-loaded available member of the team with the skill and free capacity."""
    users = get_user_model().objects
    sql = _candidates_sql(connections[users.db].vendor)
    for member in users.raw(sql, _candidates_params(team)):
        # The statement adds the profile's columns and the open-ticket count to each user.
        row: Any = member
        skills = row.profile_skills
        if isinstance(skills, str):  # JSON as text, depending on the database driver
            skills = json.loads(skills)
        if row.profile_id is not None and not row.profile_available:
            continue
        capacity = row.profile_capacity if row.profile_id is not None else DEFAULT_CAPACITY
        if row.open_tickets >= capacity:  # counted up to the capacity at most
            continue
        if skill and skill not in (skills or []):
            continue
        return member
    return None


# The team's active members who hold a working role, with their profile (skills, capacity,
# availability) and their number of open tickets, least loaded first, in one statement. Each
# member's open tickets are counted in a correlated subquery on (assignee, state): it reads
# the open part of the assignee index only. Joining "assigned_tickets" and filtering
# afterwards would read every ticket the member ever held, so intake would slow down as
# closed history grows. On PostgreSQL the count also stops at the member's capacity: a
# member that full is skipped whatever the exact number, and members with room keep their
# exact counts and so their order, so the cost stays bounded when agents hold thousands of
# open tickets. Written as SQL: intake runs it for every ticket, and building it with the
# ORM (joins, subqueries, annotations) cost more than all of intake's other reads.
@functools.cache
def _candidates_sql(vendor: str) -> str:
    user = get_user_model()
    members = Team.members.through._meta.db_table
    user_groups = user.groups.through._meta.db_table
    # SQLite (development only) cannot take the limit from the outer row: it counts all.
    at_most = f"LIMIT COALESCE(p.capacity, {DEFAULT_CAPACITY})" if vendor == "postgresql" else ""
    return f"""
        SELECT u.*, p.id AS profile_id, p.skills AS profile_skills,
               p.capacity AS profile_capacity, p.is_available AS profile_available,
               (SELECT COUNT(*) FROM (
                    SELECT 1 FROM {Ticket._meta.db_table} t
                    WHERE t.assignee_id = u.id AND t.state IN ({_placeholders(OPEN_STATES)})
                    {at_most}) AS open_rows
               ) AS open_tickets
        FROM {user._meta.db_table} u
        JOIN {members} m ON m.user_id = u.id
        LEFT JOIN {AgentProfile._meta.db_table} p ON p.user_id = u.id
        WHERE m.team_id = %s AND u.is_active
          AND EXISTS (SELECT 1 FROM {user_groups} ug JOIN {Group._meta.db_table} g
                      ON g.id = ug.group_id
                      WHERE ug.user_id = u.id AND g.name IN ({_placeholders(WORKING_ROLES)}))
        ORDER BY open_tickets, u.id
    """  # noqa: S608 - table names from the models' metadata; every value is a parameter


def _candidates_params(team: Team) -> list[object]:
    return [*OPEN_STATES, team.pk, *WORKING_ROLES]


def _placeholders(values: Sized) -> str:
    return ", ".join(["%s"] * len(values))
