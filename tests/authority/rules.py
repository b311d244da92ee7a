"""The TARGET authority rules, written out per role so the matrix can derive a status.

Visibility (tickets/selectors.py `ticket_visible_to`): supervisors, QA and risk/legal read
every ticket; everyone else reads their teams' tickets, tickets assigned to them and
tickets without a team. Acting (tickets/models/ticket.py `can_work_on`): supervisors act on
every ticket; on an assigned ticket the assignee and the team's senior agents act; on an
unassigned ticket the working roles of its team. QA only reads.
"""

from core.models.roles import Role
from tests.authority.world import CHANNEL, NO_ROLE, SHOP_SYNC, TICKET_RELATIONS

ALL = frozenset(TICKET_RELATIONS)

SEES = {
    Role.AGENT: {"own", "team", "unassigned"},
    Role.SENIOR_AGENT: {"own", "team", "unassigned"},
    Role.COMPLAINT_SPECIALIST: {"own", "team", "unassigned"},
    Role.SUPERVISOR: ALL,
    Role.QA: ALL,
    Role.RISK_LEGAL: ALL,
    NO_ROLE: set(),
    # A customer may write on any of their tickets, so the channel gateway reads them all.
    CHANNEL: ALL,
    SHOP_SYNC: set(),
}

WORKS = {
    Role.AGENT: {"own", "unassigned"},
    Role.SENIOR_AGENT: {"own", "team", "unassigned"},
    Role.COMPLAINT_SPECIALIST: {"own", "unassigned"},
    Role.SUPERVISOR: ALL,
    Role.QA: set(),
    Role.RISK_LEGAL: {"own", "unassigned"},
    NO_ROLE: set(),
    CHANNEL: set(),
    SHOP_SYNC: set(),
}

WORKING_ROLES = {Role.AGENT, Role.SENIOR_AGENT, Role.COMPLAINT_SPECIALIST, Role.SUPERVISOR,
                 Role.RISK_LEGAL}


def reads(ok: int):
    """Whoever sees the ticket gets `ok`; everyone else 404, as for a missing ticket."""
    return lambda role, relation: ok if relation in SEES[role] else 404


def acts(ok: int, refused: int = 403, **on_relation):
    """Whoever may act gets `ok`, who only sees it `refused`, everyone else 404.

    `on_relation` replaces the rule for one relation (e.g. a state that refuses everyone).
    """
    def expected(role, relation):
        if relation in on_relation:
            return on_relation[relation](role, relation)
        if relation not in SEES[role]:
            return 404
        return ok if relation in WORKS[role] else refused
    return expected


def by_role(statuses: dict, default: int | None = None):
    """A status per role, whatever the relation (operations on no particular ticket)."""
    def expected(role, relation):
        return statuses.get(role, default)
    return expected


def workers(ok: int, others: int = 403):
    """Every working role gets `ok`; QA `others`."""
    return by_role(dict.fromkeys(WORKING_ROLES, ok), default=others)


def everyone(status: int):
    return lambda role, relation: status


def table(statuses: dict):
    """Statuses written out per role and relation: {role: {relation: status}}."""
    return lambda role, relation: statuses[role][relation]
