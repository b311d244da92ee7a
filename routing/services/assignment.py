"""Classify a new ticket and pick who gets it, from the routing-rule table.

Rules are checked in one pass, in order. The rule that decides the team, the skill and the
category (when the channel or the agent gave none) is the first one matched by what the
request says it is, its category or its request reason; only when no such rule matches, the
first rule matched by anything else (words in the text, the channel, the customer's tier).
Every matching rule may raise the priority (VIP customers, safety hazards and logistics
exceptions jump the queue). The ticket then goes to the least-loaded available agent of the
team who has the skill and free capacity, or stays in the team queue. A team without any
available member is no place for a ticket: it goes to the default team instead, and the
supervisors are told (`staff`).
"""

import functools
import json
import re
from collections.abc import Sized
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connections, router
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.db.compiled import model_from_row
from core.db.prepared import columns_of
from core.models.roles import WORKING_ROLES, Role
from core.models.user import User
from notifications.services import delivery as notifications
from routing.models import AgentProfile, RoutingRule, split_keywords
from routing.services.config import RoutingConfig, routing_config
from tickets.models import OPEN_STATES, Category, Team, Ticket, user_team_ids
from tickets.services.lifecycle import Routed, Staffed

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


def rule_matches(rule: RoutingRule, *, text: str, category: str, channel: str, tier: str,
                 request_reason: str = "") -> bool:
    words = _words_to_find(rule.keywords)
    if words and not any(word in text for word in words):
        return False
    if rule.categories and category not in rule.categories:
        return False
    if rule.request_reasons and request_reason not in rule.request_reasons:
        return False
    if rule.channels and channel not in rule.channels:
        return False
    return not (rule.customer_tiers and tier not in rule.customer_tiers)


def _decides(rule: RoutingRule) -> bool:
    """Whether the rule says where the ticket goes (not only how urgent it is)."""
    return bool(rule.team_id or rule.set_category or rule.required_skill)


def classify(*, subject: str, description: str, category: str, channel: str, tier: str,
             priority: int, request_reason: str = "",
             config: RoutingConfig | None = None) -> Routing:
    """Return the category, team, skill and priority the routing table gives a request.

    `category` and `request_reason` are what the request says it is (chosen by the agent or
    sent by the channel; "" when not given). A rule they match decides before any rule
    matched only by the text, whatever their positions; the category, when not given, is
    the deciding rule's, else the first matching rule's that sets one. One pass over the
    rules. The table comes from `config`, else from routing.services.config (kept in memory
    while its version holds).
    """
    config = config or routing_config()
    text = f"{subject}\n{description}".lower()
    given_category = category or Category.OTHER
    result = Routing(category=given_category, priority=priority)
    deciding: RoutingRule | None = None
    decided_by_request = False
    first_category = ""
    for rule in config.rules:
        if not rule_matches(rule, text=text, category=given_category, channel=channel,
                            tier=tier, request_reason=request_reason):
            continue
        result.rules.append(rule.name)
        if rule.raise_priority_to is not None:
            result.priority = min(result.priority, rule.raise_priority_to)
        if not first_category:
            first_category = rule.set_category
        if decided_by_request or not _decides(rule):
            continue
        # Matched by the request's own category or reason (not by a category that only
        # stands for "none given"): this rule decides, and no later one can.
        by_request = bool(rule.request_reasons) or (bool(rule.categories) and bool(category)
                                                   and category != Category.OTHER)
        if deciding is None or by_request:
            deciding, decided_by_request = rule, by_request
    if deciding is not None:
        result.team = deciding.team
        result.skill = deciding.required_skill
    if result.category == Category.OTHER:
        result.category = (deciding.set_category if deciding else "") or first_category \
            or Category.OTHER
    if result.team is None:
        result.team = config.default_team
    return result


def route(*, subject: str, description: str, category: str, channel: str, tier: str,
          priority: int, request_reason: str = "") -> Routed:
    """Routing's answer at intake (tickets.services.lifecycle.Router): `classify` on the
    configuration in memory, handed on so the SLA clocks use the same one."""
    config = routing_config()
    routed = classify(subject=subject, description=description, category=category,
                      channel=channel, tier=tier, priority=priority,
                      request_reason=request_reason, config=config)
    return Routed(category=routed.category, priority=routed.priority, team=routed.team,
                  skill=routed.skill, rules=routed.rules, config=config)


# --- who may keep the ticket, and teams nobody can take work in ---------------------------
def may_work(user: User, *, team: Team | None, skill: str = "") -> bool:
    """Whether `user` is someone routing could give a ticket of this team and skill.

    The same rules as for taking the ticket from its queue (tickets.models.can_work_on: a
    working role, and membership of the ticket's team unless a supervisor), and, for the
    skill the routing rule asks for, the agent's profile must list it (supervisors, who may
    take any ticket, need none). An agent without a profile has no skills listed.
    """
    if not user.is_active or not user.has_role(*WORKING_ROLES):
        return False
    if user.has_role(Role.SUPERVISOR):
        return True
    if team is not None and team.pk not in user_team_ids(user):
        return False
    if not skill:
        return True
    profile = AgentProfile.objects.filter(user=user).values_list("skills", flat=True).first()
    return skill in (profile or [])


@dataclass(frozen=True)
class Plan:
    """Where a new ticket goes and who gets it, before anything is written."""

    team: Team | None
    agent: User | None = None
    unstaffed: Team | None = None  # the team routing chose, left because nobody works in it


class _Candidate(NamedTuple):
    """A row of the least-loaded statement: a member's columns, profile and open tickets."""

    user: tuple  # the user's column values, as the database returned them
    profile_id: int | None
    profile_skills: Any
    profile_capacity: int | None
    profile_available: bool | None
    open_tickets: int


def _available(row: _Candidate) -> bool:
    """A candidate who takes work now: no profile, or a profile that says available."""
    return row.profile_id is None or bool(row.profile_available)


def _least_loaded(candidates: list[_Candidate], skill: str) -> User | None:
    for row in candidates:
        skills = row.profile_skills
        if isinstance(skills, str):  # JSON as text, depending on the database driver
            skills = json.loads(skills)
        if not _available(row):
            continue
        # No profile (the LEFT JOIN found none): no capacity of its own.
        capacity = DEFAULT_CAPACITY if row.profile_capacity is None else row.profile_capacity
        if row.open_tickets >= capacity:  # counted up to the capacity at most
            continue
        if skill and skill not in (skills or []):
            continue
        return model_from_row(get_user_model(), router.db_for_read(get_user_model()),
                              row.user)
    return None


def _candidates(team: Team) -> list[_Candidate]:
    """The team's members as `_Candidate` rows, least loaded first.

    Plain rows, not model instances: intake reads every member on every ticket and needs
    a user object for the one it picks only (Django's raw() cost more than the statement);
    `_least_loaded` builds that one with `core.db.compiled.model_from_row`.
    """
    alias = router.db_for_read(get_user_model())
    width = len(get_user_model()._meta.concrete_fields)
    with connections[alias].cursor() as cursor:
        cursor.execute(_candidates_sql(connections[alias].vendor), _candidates_params(team))
        return [_Candidate(tuple(row[:width]), *row[width:]) for row in cursor.fetchall()]


def plan(*, team: Team | None, skill: str = "", taken_by: User | None = None,
         pick: bool = True, config: RoutingConfig | None = None) -> Plan:
    """Decide who gets a ticket routing sends to `team`, without writing anything.

    `taken_by` (the agent on the phone) keeps it when they may work it (`may_work`). Else
    the team's members are read once (the least-loaded statement): with an available member
    the ticket stays in the team, given to the least-loaded one when `pick`; with none
    (nobody in it, all inactive or off duty) it goes to the default team, without the
    rule's skill, which was the first team's.
    """
    if team is None:
        return Plan(team=None)
    if taken_by is not None and may_work(taken_by, team=team, skill=skill):
        return Plan(team=team, agent=taken_by)
    candidates = _candidates(team)
    if any(_available(row) for row in candidates):
        return Plan(team=team, agent=_least_loaded(candidates, skill) if pick else None)
    default = (config or routing_config()).default_team
    if default is None or default.pk == team.pk:
        return Plan(team=team, unstaffed=team)
    if taken_by is not None and may_work(taken_by, team=default):
        return Plan(team=default, agent=taken_by, unstaffed=team)
    agent = _least_loaded(_candidates(default), "") if pick else None
    return Plan(team=default, agent=agent, unstaffed=team)


def _supervisors() -> list[User]:
    return list(get_user_model().objects.filter(groups__name=Role.SUPERVISOR, is_active=True)
                .distinct())


def tell_supervisors_team_unstaffed(team: Team, *, fallback: Team | None) -> None:
    """Tell every supervisor, once per team and day, that routing found nobody in `team`.

    The outbox's dedupe key carries the team, the day and the supervisor, so the hundredth
    ticket of the day that falls back queues nothing more (the outbox looks the keys up by
    its unique index and leaves out those it holds).
    """
    day = timezone.localdate().isoformat()
    template = ("routing.team_unstaffed" if fallback is not None and fallback.pk != team.pk
                else "routing.default_team_unstaffed")
    context = {"team": team.name, "fallback": fallback.name if fallback is not None else ""}
    notifications.notify_many([
        notifications.Notification(
            template=template, channel="internal", user=user,
            context=context, dedupe_key=f"team-unstaffed:{team.pk}:{day}:{user.pk}")
        for user in _supervisors()
    ])


def unstaffed_note(team: Team, *, fallback: Team | None) -> str:
    """The creation history's note on a team nobody was available in, in the site's language
    (the history is read by everyone, as the notifications are)."""
    with translation.override(settings.LANGUAGE_CODE):
        if fallback is None or fallback.pk == team.pk:
            return _("nobody available in %(team)s") % {"team": team.name}
        return _("nobody available in %(team)s, sent to %(fallback)s") % {
            "team": team.name, "fallback": fallback.name}


def staff(*, team: Team | None, skill: str = "", taken_by: User | None = None,
          pick: bool = True, config: Any = None) -> Staffed:
    """Routing's answer inside ticket creation (tickets.services.lifecycle.Router): `plan`,
    then, when the chosen team had nobody, the supervisors are told and the history's note
    names the team that was left."""
    decided = plan(team=team, skill=skill, taken_by=taken_by, pick=pick, config=config)
    note = ""
    if decided.unstaffed is not None:
        tell_supervisors_team_unstaffed(decided.unstaffed, fallback=decided.team)
        note = unstaffed_note(decided.unstaffed, fallback=decided.team)
    return Staffed(team=decided.team, agent=decided.agent, note=note,
                   taken=decided.agent is not None and decided.agent == taken_by)


def pick_agent(*, team: Team, skill: str = "") -> User | None:
    """Return the least-loaded available member of the team with the skill and free capacity."""
    return _least_loaded(_candidates(team), skill)


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
        SELECT {columns_of(user, "u")}, p.id AS profile_id, p.skills AS profile_skills,
               p.capacity AS profile_capacity, p.is_available AS profile_available,
               (SELECT COUNT(*) FROM (
                    SELECT 1 FROM {Ticket._meta.db_table} t
                    WHERE t.assignee_id = u.id AND t.state IN ({_literals(OPEN_STATES)})
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
    """  # noqa: S608 - names from the models' metadata, states from the code; values are parameters


def _literals(values: tuple[str, ...]) -> str:
    """Return the states as SQL literals. They are written into the statement, not passed
    as parameters, so that a prepared statement's generic plan still proves the open-ticket
    partial index's condition (core.db.prepared)."""
    if not all(re.fullmatch(r"[a-z_]+", value) for value in values):
        raise ValueError(values)
    return ", ".join(f"'{value}'" for value in values)


def _candidates_params(team: Team) -> list[int | str]:
    return [team.pk, *WORKING_ROLES]


def _placeholders(values: Sized) -> str:
    return ", ".join(["%s"] * len(values))
