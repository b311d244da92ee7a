"""The people, teams and objects the permission matrix acts on.

Each role acts from a home team. The relations between the acting user and a ticket are:

- own: a ticket of the home team assigned to the acting user;
- team: a ticket of the home team assigned to a colleague;
- other: another team's ticket, assigned to that team's agent;
- unassigned: a ticket of the home team that nobody holds yet;
- l3: a level-3 complaint held by risk/legal (its team, assigned to a risk/legal colleague).

Supervisors and QA inspectors belong to no team; their "home" team is the after-sales team.
Besides the six staff roles the matrix acts as an account without any role and as the two
integration accounts (the channel gateway and the shop sync).
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import Group

from core.models.roles import Integration, Role
from core.services.accounts import integration_account
from knowledge.models import Article, ArticleState, ScriptTemplate
from notifications.models import OutboxChannel, OutboxMessage
from policies.models import PolicyRule
from resolutions.models import Resolution
from supervision.models.qa import QaReview
from tests.factories import OrderItemFactory, TeamFactory, TicketFactory, UserFactory
from tickets.models import ComplaintLevel, Priority, TicketState

# A signed-in account that holds no role (a new hire before their role is set, an account
# whose role was taken away): least privilege says it gets nothing.
NO_ROLE = "no_role"
# The service accounts of the channel gateways and of the shop's customer master data.
CHANNEL, SHOP_SYNC = Integration.CHANNEL, Integration.SHOP_SYNC
ROLES = (Role.AGENT, Role.SENIOR_AGENT, Role.COMPLAINT_SPECIALIST, Role.SUPERVISOR, Role.QA,
         Role.RISK_LEGAL, NO_ROLE, CHANNEL, SHOP_SYNC)
TICKET_RELATIONS = ("own", "team", "other", "unassigned", "l3")


def _member(role: str, username: str, *teams):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=role))
    for team in teams:
        team.members.add(user)
    return user


@dataclass
class World:
    personas: dict
    teams: dict
    colleagues: dict  # team code -> a colleague of that team who is no persona
    home: dict = field(default_factory=dict)  # role -> team
    proposer: object = None
    article_author: object = None
    reviewer: object = None
    script_template: object = None

    def user(self, role):
        return self.personas[role]

    # --- tickets ---------------------------------------------------------------------------
    def ticket(self, role, relation: str, *, state=TicketState.IN_PROGRESS, customer=None,
               with_order: bool = False):
        """Return a new ticket in the given relation to the role's persona."""
        home = self.home[role]
        team, assignee, extra = {
            "own": (home, self.user(role), {}),
            "team": (home, self.colleagues[home.code], {}),
            "other": (self.teams["logistics"], self.colleagues["logistics"], {}),
            "unassigned": (home, None, {}),
            "l3": (self.teams["risk_legal"], self.colleagues["risk_legal"],
                   {"complaint_level": ComplaintLevel.L3, "priority": Priority.P0}),
        }[relation]
        # A held ticket is never new, a ticket nobody holds never merely assigned.
        if assignee is None and state == TicketState.ASSIGNED:
            state = TicketState.NEW
        elif assignee is not None and state == TicketState.NEW:
            state = TicketState.ASSIGNED
        if with_order:
            item = OrderItemFactory(order__customer=customer) if customer else OrderItemFactory()
            extra.update(customer=item.order.customer, order=item.order, order_item=item,
                         request_reason="quality_defect", item_condition="opened")
        elif customer is not None:
            extra["customer"] = customer
        return TicketFactory(team=team, assignee=assignee, state=state, **extra)

    def resolution(self, ticket, *, state="proposed", approval_role=Role.SENIOR_AGENT):
        """A resolution someone else proposed, waiting for the next step."""
        return Resolution.objects.create(
            ticket=ticket, order_item=ticket.order_item, kind="refund_only", state=state,
            verdict="needs_approval", approval_role=approval_role,
            refund_amount=Decimal("20.00"), proposed_by=self.proposer,
        )

    # --- everything else -------------------------------------------------------------------
    def article(self, role, relation: str, *, state=ArticleState.DRAFT):
        """own_draft: the persona's own draft; others_draft: a colleague's; published."""
        author = self.user(role) if relation == "own_draft" else self.article_author
        if relation == "published":
            state = ArticleState.PUBLISHED
        return Article.objects.create(title="七天无理由退货怎么算", body="签收次日起算七天。",
                                      author=author, state=state)

    def script(self):
        """The one script template (made with the world, so its id is the same in every cell)."""
        return self.script_template

    def notification(self, role, relation: str):
        recipient = self.user(role) if relation == "own" else self.proposer
        return OutboxMessage.objects.create(recipient_user=recipient, channel=OutboxChannel.INTERNAL,
                                            template="test", body="工单有新消息")

    def qa_review(self, role, relation: str):
        """own: unclaimed or the persona's own review; other: another inspector's."""
        ticket = TicketFactory(team=self.teams["after_sales"], assignee=self.colleagues["after_sales"],
                               state=TicketState.CLOSED)
        reviewer = None if relation == "own" else self.reviewer
        return QaReview.objects.create(ticket=ticket, source="sample", reviewer=reviewer,
                                       created_at=ticket.created_at)


def build_world(personas, team, escalation_teams, other_agent) -> World:
    teams = {"after_sales": team, **escalation_teams,
             "logistics": TeamFactory(code="logistics", name="物流组")}
    colleagues = {
        "after_sales": other_agent,
        "complaints": _member(Role.COMPLAINT_SPECIALIST, "complaints_sun", teams["complaints"]),
        "risk_legal": _member(Role.RISK_LEGAL, "risk_qian", teams["risk_legal"]),
        "logistics": _member(Role.AGENT, "logistics_he", teams["logistics"]),
    }
    personas = {
        **personas,
        NO_ROLE: UserFactory(username="no_role_yet"),
        CHANNEL: integration_account(username="chat_gateway", integration=CHANNEL),
        SHOP_SYNC: integration_account(username="shop_sync", integration=SHOP_SYNC),
    }
    world = World(personas=personas, teams=teams, colleagues=colleagues)
    world.home = {
        Role.AGENT: team, Role.SENIOR_AGENT: team, Role.SUPERVISOR: team, Role.QA: team,
        Role.COMPLAINT_SPECIALIST: teams["complaints"], Role.RISK_LEGAL: teams["risk_legal"],
        NO_ROLE: team, CHANNEL: team, SHOP_SYNC: team,
    }
    world.proposer = _member(Role.AGENT, "agent_proposer", team)
    world.article_author = _member(Role.AGENT, "agent_writer", team)
    world.reviewer = _member(Role.QA, "qa_other")
    world.script_template = ScriptTemplate.objects.create(
        title="致歉", scenario="apology", body="您好，{customer_name}，非常抱歉。")
    # The one option the propose rows ask for, whatever the shipped rule table says.
    PolicyRule.objects.create(name="Sorry coupon", kind="compensation_coupon", priority=1,
                              reasons=["quality_defect"], verdict="allow",
                              coupon_amount=Decimal("10"), source="test")
    return world
