"""Routing on creation, claim-next, and the SLA policy table."""

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from routing import services as routing_services
from routing.models import AgentProfile, RoutingRule
from sla.models import SlaClock, SlaPolicy
from sla.services import calendar as sla
from tests.factories import CustomerFactory, TicketFactory, UserFactory
from tests.plans import generic_plan
from tickets import services
from tickets.models import Team, Ticket, TicketState

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def create(agent, subject, *, tier="normal", category="", description="", channel="app"):
    return services.ticket_create(actor=agent, channel=channel,
                                  customer=CustomerFactory(tier=tier), subject=subject,
                                  description=description, category=category)


@pytest.fixture
def quality_team(senior_agent, agent):
    team = Team.objects.get(code="quality")
    team.members.add(senior_agent, agent)
    AgentProfile.objects.create(user=senior_agent, skills=["quality"], capacity=5)
    AgentProfile.objects.create(user=agent, skills=["quality", "after_sales"], capacity=5)
    return team


@pytest.mark.parametrize(("subject", "category", "team", "priority"), [
    ("空调插头冒烟，闻到焦味", "safety_hazard", "quality", 0),
    ("快递三天没更新，物流滞留", "logistics_exception", "logistics", 1),
    ("退款一直没有到账", "refund_not_arrived", "payment", 1),
    ("收到的耳机左耳没有声音", "quality_malfunction", "quality", 2),
    ("想申请七天无理由退货", "return_exchange", "after_sales", 2),
    ("请问发票怎么开", "other", "after_sales", 2),
])
@pytest.mark.usefixtures("staffed_teams")
def test_new_tickets_are_classified_routed_and_prioritised(agent, subject, category, team,
                                                           priority):
    ticket = create(agent, subject)

    assert (ticket.category, ticket.team.code, ticket.priority) == (category, team, priority)


def test_vip_customers_and_complaint_calls_jump_the_queue(agent):
    assert create(agent, "请问发票怎么开", tier="vip").priority == 1
    assert create(agent, "我要投诉你们的服务").priority == 1


@pytest.mark.usefixtures("staffed_teams")
def test_a_category_given_by_the_channel_is_kept(agent):
    ticket = create(agent, "物流显示已签收但没收到", category="order_not_received")

    assert ticket.category == "order_not_received"
    assert ticket.team.code == "logistics"


def test_the_routing_rule_names_are_in_the_creation_history(agent):
    ticket = create(agent, "空调插头冒烟")

    reason = ticket.history.earliest().history_change_reason
    assert reason.startswith("create:app — ")
    assert "安全隐患" in reason


def test_a_new_ticket_goes_to_the_least_loaded_agent_with_the_skill(agent, senior_agent,
                                                                    quality_team):
    TicketFactory(team=quality_team, assignee=agent, state=TicketState.IN_PROGRESS)

    ticket = create(agent, "耳机坏了，没有声音")

    assert ticket.assignee == senior_agent
    assert ticket.state == TicketState.ASSIGNED
    assert ticket.history.latest().history_change_reason == "transition:assign — routing"


def test_unavailable_or_full_agents_are_skipped_and_the_ticket_waits_in_the_queue(
    agent, senior_agent, quality_team
):
    AgentProfile.objects.filter(user=senior_agent).update(is_available=False)
    AgentProfile.objects.filter(user=agent).update(capacity=1)
    TicketFactory(team=quality_team, assignee=agent, state=TicketState.IN_PROGRESS)

    ticket = create(agent, "耳机坏了，没有声音")

    assert ticket.assignee is None
    assert ticket.state == TicketState.NEW


def test_an_agent_without_the_skill_is_not_given_the_ticket(agent, senior_agent, quality_team):
    AgentProfile.objects.filter(user=senior_agent).update(is_available=False)
    AgentProfile.objects.filter(user=agent).update(skills=["after_sales"])

    assert create(agent, "耳机坏了").assignee is None


@pytest.mark.usefixtures("staffed_teams")
def test_a_routing_rule_edit_changes_the_next_routing(agent):
    RoutingRule.objects.create(name="发票 → 支付组", order=1, keywords="发票",
                               team=Team.objects.get(code="payment"))

    assert create(agent, "请问发票怎么开").team.code == "payment"


# --- claim next ---------------------------------------------------------------------------------
def test_claim_next_takes_the_most_urgent_then_the_oldest(agent, team):
    now = datetime.now(SHANGHAI)
    old_p2 = TicketFactory(team=team, priority=2, created_at=now - timedelta(hours=5))
    TicketFactory(team=team, priority=2, created_at=now - timedelta(hours=1))
    urgent = TicketFactory(team=team, priority=0, created_at=now)
    TicketFactory(priority=0, team=Team.objects.get(code="payment"))  # not my team

    assert routing_services.ticket_claim_next(actor=agent) == urgent
    assert routing_services.ticket_claim_next(actor=agent) == old_p2


def test_claim_next_on_an_empty_queue_returns_nothing(agent, team):
    assert routing_services.ticket_claim_next(actor=agent) is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_claimers_never_get_the_same_ticket(team, agent, other_agent, senior_agent):
    for _ in range(30):
        TicketFactory(team=team)
    claimers = [agent, other_agent, senior_agent] * 2
    claimed: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(claimers))

    def claim_until_empty(user):
        try:
            barrier.wait()
            while True:
                ticket = routing_services.ticket_claim_next(actor=type(user).objects.get(pk=user.pk))
                if ticket is None:
                    return
                with lock:
                    claimed.append(ticket.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim_until_empty, args=(user,)) for user in claimers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(claimed) == 30
    assert len(set(claimed)) == 30
    assert not Ticket.objects.filter(assignee__isnull=True).exists()


# --- SLA policies -------------------------------------------------------------------------------
def test_due_times_come_from_the_sla_policy_of_priority_and_level(agent):
    ticket = create(agent, "空调插头冒烟")  # P0

    assert ticket.first_response_due_at - ticket.created_at == timedelta(minutes=15)
    assert ticket.resolution_due_at - ticket.created_at == timedelta(hours=4)


def test_due_times_are_recomputed_when_the_level_changes(make_ticket, agent, escalation_teams):
    ticket = services.ticket_create(actor=agent, channel="app", customer=CustomerFactory(),
                                    subject="请问发票怎么开", auto_assign=False)
    assert ticket.resolution_due_at - ticket.created_at == timedelta(hours=48)
    ticket.team.members.add(agent)
    services.ticket_assign(ticket=ticket, actor=agent, assignee=agent)

    services.ticket_escalate(ticket=ticket, actor=agent, level="l1", reason="客户要求投诉")

    assert ticket.resolution_due_at - ticket.created_at == timedelta(hours=24)


def test_working_hours_skip_nights_weekends_and_holidays_and_count_make_up_days():
    terms = sla.Terms(first_response=timedelta(hours=2), resolution=timedelta(hours=8),
                      update_interval=timedelta(hours=8), escalate_after=timedelta(hours=48),
                      working_hours=True)
    friday_evening = datetime(2026, 9, 18, 17, 0, tzinfo=SHANGHAI)
    # Sunday 20 September 2026 is a make-up working day (调休) before the National Day week.
    assert sla.add_time(friday_evening, timedelta(hours=2), terms) == \
        datetime(2026, 9, 20, 10, 0, tzinfo=SHANGHAI)
    # 30 September 17:00 + 2 h runs over the holiday to the first working day after it.
    before_holiday = datetime(2026, 9, 30, 17, 0, tzinfo=SHANGHAI)
    after = sla.add_time(before_holiday, timedelta(hours=2), terms)
    assert after.date() > datetime(2026, 10, 7, tzinfo=SHANGHAI).date()
    assert after.time().hour == 10


def test_calendar_hours_are_the_default(agent):
    SlaPolicy.objects.filter(priority=2, complaint_level="none").update(clock=SlaClock.CALENDAR)
    ticket = create(agent, "请问发票怎么开")

    assert ticket.first_response_due_at - ticket.created_at == timedelta(hours=2)


def _rows_read_from_tickets(plan: dict) -> int:
    """Sum the rows every node on the ticket table produced or threw away, all loops."""
    rows = 0
    if plan.get("Relation Name") == Ticket._meta.db_table:
        loops = plan.get("Actual Loops", 1)
        rows += (plan.get("Actual Rows", 0) + plan.get("Rows Removed by Filter", 0)
                 + plan.get("Rows Removed by Index Recheck", 0)) * loops
    for child in plan.get("Plans", []):
        rows += _rows_read_from_tickets(child)
    return rows


@pytest.mark.postgres
def test_least_loaded_assignment_never_reads_closed_history(agent, senior_agent, quality_team):
    from django.test.utils import CaptureQueriesContext

    from routing.services.assignment import pick_agent
    from tickets.models import OPEN_STATES

    customer = CustomerFactory()
    closed = [TicketFactory.build(customer=customer, team=quality_team, assignee=person,
                                  state=TicketState.CLOSED)
              for person in (agent, senior_agent) for _ in range(2500)]
    Ticket.objects.bulk_create(closed, batch_size=1000)
    TicketFactory(team=quality_team, assignee=agent, state=TicketState.IN_PROGRESS)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Ticket._meta.db_table}")

    with CaptureQueriesContext(connection) as queries:
        chosen = pick_agent(team=quality_team, skill="quality")
    routing_sql = next(q["sql"] for q in queries.captured_queries if "tickets_ticket" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {routing_sql}")
        plan = cursor.fetchone()[0][0]["Plan"]

    assert chosen == senior_agent  # fewer open tickets, however much closed history
    open_count = Ticket.objects.filter(state__in=OPEN_STATES).count()
    # Only open tickets are touched, not the 5,000 closed ones the two agents hold.
    assert _rows_read_from_tickets(plan) <= open_count + 2, plan


@pytest.mark.postgres
def test_least_loaded_assignment_stops_counting_at_the_capacity(agent, senior_agent,
                                                                quality_team):
    """Agents holding thousands of open tickets cost no more than their capacity each."""
    from django.test.utils import CaptureQueriesContext

    from routing.services.assignment import pick_agent

    customer = CustomerFactory()
    AgentProfile.objects.filter(user=agent).update(capacity=50)
    Ticket.objects.bulk_create(
        [TicketFactory.build(customer=customer, team=quality_team, assignee=senior_agent,
                             state=TicketState.IN_PROGRESS) for _ in range(2000)]
        + [TicketFactory.build(customer=customer, team=quality_team, assignee=agent,
                               state=TicketState.IN_PROGRESS) for _ in range(3)]
        # Closed history of many agents, as a real table mostly holds: without it a table
        # this small, shared by two agents, is cheaper to scan whole than through any index.
        + [TicketFactory.build(customer=customer, team=quality_team, assignee=former,
                               state=TicketState.CLOSED)
           for former in UserFactory.create_batch(40) for _ in range(150)],
        batch_size=1000)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Ticket._meta.db_table}")

    with CaptureQueriesContext(connection) as queries:
        chosen = pick_agent(team=quality_team, skill="quality")
    routing_sql = next(q["sql"] for q in queries.captured_queries if "tickets_ticket" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {routing_sql}")
        plan = cursor.fetchone()[0][0]["Plan"]

    assert chosen == agent  # the senior agent is full (capacity 5)
    assert _rows_read_from_tickets(plan) <= 5 + 3 + 2, plan


@pytest.mark.postgres
def test_least_loaded_statement_prepared_keeps_to_open_tickets(agent, senior_agent,
                                                               quality_team):
    """Intake prepares the statement (core.db.prepared): its generic plan, made without the
    values, must still read open tickets only, so the open states are part of its text."""
    from routing.services.assignment import _candidates_params, _candidates_sql
    from tickets.models import OPEN_STATES

    customer = CustomerFactory()
    Ticket.objects.bulk_create(
        [TicketFactory.build(customer=customer, team=quality_team, assignee=person,
                             state=TicketState.CLOSED)
         for person in (agent, senior_agent) for _ in range(2500)], batch_size=1000)
    TicketFactory(team=quality_team, assignee=agent, state=TicketState.IN_PROGRESS)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Ticket._meta.db_table}")
    plan = generic_plan(_candidates_sql("postgresql"), _candidates_params(quality_team),
                        analyze=True)

    open_count = Ticket.objects.filter(state__in=OPEN_STATES).count()
    assert _rows_read_from_tickets(plan) <= open_count + 2, plan


def test_the_member_routing_picks_is_the_user_as_the_orm_reads_it(agent, quality_team):
    from django.contrib.auth import get_user_model
    from django.forms.models import model_to_dict

    from routing.services.assignment import pick_agent

    user_model = get_user_model()
    user_model.objects.filter(pk=agent.pk).update(last_login=datetime(2026, 5, 1, 9, 30,
                                                                      tzinfo=ZoneInfo("UTC")))
    quality_team.members.set([agent])

    chosen = pick_agent(team=quality_team)
    read = user_model.objects.get(pk=agent.pk)

    # Converted as the ORM converts (SQLite returns text for times, 0/1 for booleans), and
    # saved back unchanged.
    assert model_to_dict(chosen) == model_to_dict(read)
    assert isinstance(chosen.last_login, datetime)
    assert chosen.is_active is True
    assert chosen._state.adding is False
    chosen.save()
    assert model_to_dict(user_model.objects.get(pk=agent.pk)) == model_to_dict(read)
