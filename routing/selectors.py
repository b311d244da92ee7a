"""Reads about who works what, shared by the console's pages."""

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet

from core.models.roles import WORKING_ROLES
from tickets.models import Team

_WORKING = [str(role) for role in WORKING_ROLES]


def assignee_choices(*, team_id: int | None) -> QuerySet:
    """Return who a ticket of the team may be given to, in one query: the team's working
    members; for a team nobody works in (its tickets are then a supervisor's to hand out,
    tickets.services.tickets._check_assignee), every working agent of the console, team
    members first. Without a team, every working agent."""
    users = get_user_model().objects.filter(is_active=True, groups__name__in=_WORKING)
    if team_id is None:
        return users.distinct().order_by("username")
    membership = Team.members.through.objects.filter(team_id=team_id)
    is_member = Exists(membership.filter(user_id=OuterRef("pk")))
    team_has_worker = Exists(membership.filter(user__is_active=True,
                                               user__groups__name__in=_WORKING))
    return (users.filter(Q(is_member) | ~team_has_worker)
            .annotate(in_team=is_member).distinct().order_by("-in_team", "username"))
