"""The approvals inbox: what waits for this user's approval, and how many (the top bar's badge).

Two kinds of item wait for an approver: resolutions the customer agreed to that need a role's
approval (state "accepted"), and submitted policy change sets. A resolution is in a person's
inbox when their role may approve its approving role (`resolutions.services.roles_may_approve`,
written here again as a filter), their approval limit covers its amount, they did not propose
it (maker-checker) and they read its ticket. A change set is in it when it still needs one of
their roles, they did not draft it and have not approved it yet.

Every read is one query, the count included (both kinds in one UNION), so the badge costs a
page one query; the lists are capped, oldest first.
"""

import copy
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse

from core.db.compiled import CompiledQuery
from core.models.labels import pick_label
from core.models.names import person_name
from core.models.roles import Role
from policies.models import (
    ApprovalLimit,
    ChangeAction,
    ChangeSetState,
    PolicyChangeApproval,
    PolicyChangeSet,
)
from policies.services.changesets import APPROVING_ROLES
from resolutions.models import Resolution, ResolutionKind, ResolutionState
from resolutions.services import approval_limit
from resolutions.services.resolutions import APPROVAL_LADDER
from tickets.selectors import SEE_ALL_ROLES

# The inbox lists at most this many of each kind, oldest first; the rest wait their turn.
INBOX_CAP = 50


def rule_display_name(name: str, name_zh: str) -> str:
    """Return a rule's name in the language of the page: the Chinese name on Chinese pages."""
    return pick_label(name, name_zh)


# --- who may approve what -------------------------------------------------------------------
def may_approve_resolutions(user) -> bool:
    """Return True if the user may approve some resolution (a role and a limit above zero)."""
    if not user.has_perm("resolutions.approve_resolution"):
        return False
    limit = approval_limit(user)
    return limit is None or limit > 0


def may_approve_change_sets(user) -> bool:
    """Return True if the user approves policy change sets (permission and role)."""
    return (user.has_perm("policies.approve_policychangeset")
            and bool(set(user.role_names) & set(APPROVING_ROLES)))


def has_approval_rights(user) -> bool:
    """Return True if the approvals inbox is for this user."""
    return may_approve_change_sets(user) or may_approve_resolutions(user)


def _approvable_roles(user) -> Q | None:
    """Return the filter on approval_role the user's roles may approve (None: nothing)."""
    roles = set(user.role_names)
    if user.is_superuser or Role.RISK_LEGAL in roles:
        return Q()
    if Role.SUPERVISOR in roles:
        return ~Q(approval_role=Role.RISK_LEGAL)
    ranks = [APPROVAL_LADDER.index(role) for role in roles if role in APPROVAL_LADDER]
    if not ranks:
        return None
    return Q(approval_role__in=APPROVAL_LADDER[:max(ranks) + 1])


def _within_limit(user) -> Q:
    """Return the filter "amount within the user's limit", the limit read in the same query."""
    if user.is_superuser:
        return Q()
    limits = ApprovalLimit.objects.filter(role__in=user.role_names)
    unlimited = Exists(limits.filter(max_amount__isnull=True))
    largest = Subquery(limits.filter(max_amount__isnull=False)
                       .order_by("-max_amount").values("max_amount")[:1])
    # No row at all: the limit is zero, and a NULL comparison lets nothing through.
    return Q(unlimited) | Q(waiting_amount__lte=largest)


def _reads_ticket(user) -> Q:
    """Return the filter "the ticket is one the user reads" (tickets.selectors.ticket_visible_to)."""
    if user.has_role(*SEE_ALL_ROLES):
        return Q()
    return (Q(ticket__team__in=user.teams.values("pk")) | Q(ticket__assignee=user)
            | Q(ticket__team__isnull=True))


def resolutions_awaiting(user) -> QuerySet[Resolution]:
    """Return the resolutions waiting for this user's approval, oldest first."""
    roles = _approvable_roles(user)
    if roles is None or not user.has_perm("resolutions.approve_resolution"):
        return Resolution.objects.none()
    return (
        Resolution.objects.filter(state=ResolutionState.ACCEPTED)
        .annotate(waiting_amount=F("refund_amount") + F("compensation_amount")
                  + F("coupon_amount"))
        .filter(roles, _within_limit(user), _reads_ticket(user))
        .exclude(proposed_by=user)
        .order_by("accepted_at", "id")
    )


def change_sets_awaiting(user) -> QuerySet[PolicyChangeSet]:
    """Return the submitted policy change sets that still need one of this user's roles."""
    roles = [role for role in user.role_names if role in APPROVING_ROLES]
    if not roles or not user.has_perm("policies.approve_policychangeset"):
        return PolicyChangeSet.objects.none()
    approvals = PolicyChangeApproval.objects.filter(change_set=OuterRef("pk"))
    # A plain set needs one approval from any approving role (so a submitted one has none);
    # a set that changes a limit needs each role once: either way, one of the user's roles
    # must still be missing.
    missing = Q()
    for role in roles:
        missing |= Q(~Exists(approvals.filter(role=role)))
    return (
        PolicyChangeSet.objects.filter(state=ChangeSetState.SUBMITTED)
        .exclude(author=user)
        .filter(missing, ~Exists(approvals.filter(approver=user)))
        .order_by("submitted_at", "id")
    )


def _waiting_count_query(user) -> QuerySet | None:
    """Return what waits for the user as one query of ids (None: nothing can wait)."""
    lists = [items.order_by().values_list("pk") for items in (resolutions_awaiting(user),
                                                               change_sets_awaiting(user))
             if not items.query.is_empty()]
    if not lists:
        return None
    first, *others = lists
    return first.union(*others, all=True) if others else first


# One compiled count per shape of user (core.db.compiled); None where nothing can wait.
_badge_counts: dict[tuple, CompiledQuery | None] = {}


def _count_shape(user) -> tuple:
    """What the badge's query depends on besides the user's id: roles and rights."""
    return (tuple(user.role_names), user.is_superuser, user.is_active,
            user.has_perm("resolutions.approve_resolution"),
            user.has_perm("policies.approve_policychangeset"))


def _badge_count(user) -> CompiledQuery | None:
    """Return the badge's count for users shaped like `user`, compiled once.

    The query's shape depends only on `_count_shape`; building it through the ORM took the
    queue pages about a fifth of their time. Its plan does not depend on the user, so it is
    prepared too (no partial index serves it).
    """
    shape = _count_shape(user)
    if shape not in _badge_counts:
        def build(user_id: int) -> QuerySet:
            person = copy.copy(user)
            person.pk = user_id
            query = _waiting_count_query(person)
            assert query is not None  # the same shape as `user`, checked below
            return query

        nothing = _waiting_count_query(user) is None
        _badge_counts[shape] = None if nothing else CompiledQuery(build, "user_id",
                                                                   prepare=True)
    return _badge_counts[shape]


def approvals_waiting_count(user) -> int:
    """Return how many items wait for the user's approval, in one query (none without rights)."""
    if not user.is_authenticated:
        return 0
    count = _badge_count(user)
    return 0 if count is None else count.count(user_id=user.pk)


# --- the inbox's rows ------------------------------------------------------------------------
@dataclass(frozen=True)
class ResolutionRow:
    pk: int
    ticket_number: str
    kind: str
    amount: Decimal
    points: int
    rule: str
    approval_role: str
    proposer: str
    waiting_since: datetime | None


@dataclass(frozen=True)
class ChangeSetRow:
    pk: int
    title: str
    author: str
    items: int
    changes_limits: bool
    waiting_since: datetime | None
    url: str


@dataclass(frozen=True)
class Inbox:
    resolutions: list[ResolutionRow]
    change_sets: list[ChangeSetRow]
    more_resolutions: bool
    more_change_sets: bool

    @property
    def is_empty(self) -> bool:
        return not self.resolutions and not self.change_sets


def _resolution_rows(user) -> list[ResolutionRow]:
    kinds = dict(ResolutionKind.choices)
    roles = dict(Role.choices)
    rows = resolutions_awaiting(user).values(
        "pk", "ticket__number", "kind", "refund_amount", "compensation_amount", "coupon_amount",
        "points", "rule_name", "rule__name",
        "rule__name_zh", "approval_role", "proposed_by__first_name", "proposed_by__last_name",
        "proposed_by__username", "accepted_at",
    )[:INBOX_CAP + 1]
    return [
        ResolutionRow(
            pk=row["pk"], ticket_number=row["ticket__number"],
            kind=str(kinds.get(row["kind"], row["kind"])),
            amount=row["refund_amount"] + row["compensation_amount"] + row["coupon_amount"],
            points=row["points"],
            rule=rule_display_name(row["rule__name"] or row["rule_name"], row["rule__name_zh"] or ""),
            approval_role=str(roles.get(row["approval_role"], row["approval_role"])),
            proposer=person_name(row["proposed_by__first_name"] or "",
                                 row["proposed_by__last_name"] or "",
                                 row["proposed_by__username"] or ""),
            waiting_since=row["accepted_at"],
        )
        for row in rows
    ]


def _change_set_rows(user) -> list[ChangeSetRow]:
    rows = change_sets_awaiting(user).annotate(
        item_count=Count("items"),
        limit_items=Count("items", filter=Q(items__action=ChangeAction.UPDATE_LIMIT)),
    ).values("pk", "title", "author__first_name", "author__last_name", "author__username",
             "submitted_at", "item_count", "limit_items")[:INBOX_CAP + 1]
    return [
        ChangeSetRow(
            pk=row["pk"], title=row["title"],
            author=person_name(row["author__first_name"], row["author__last_name"],
                               row["author__username"]),
            items=row["item_count"], changes_limits=row["limit_items"] > 0,
            waiting_since=row["submitted_at"],
            url=reverse("admin:policies_policychangeset_change", args=[row["pk"]]),
        )
        for row in rows
    ]


def approval_inbox(user) -> Inbox:
    """Return what waits for the user's approval: two queries, at most INBOX_CAP of each."""
    resolutions = _resolution_rows(user)
    change_sets = _change_set_rows(user)
    return Inbox(
        resolutions=resolutions[:INBOX_CAP], change_sets=change_sets[:INBOX_CAP],
        more_resolutions=len(resolutions) > INBOX_CAP,
        more_change_sets=len(change_sets) > INBOX_CAP,
    )
