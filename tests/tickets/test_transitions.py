"""Every ticket transition: the allowed path, the refused paths, and the audit row it leaves."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from core.services.exceptions import Conflict
from resolutions.models import Resolution, ResolutionKind, ResolutionState
from tests.factories import TicketFactory
from tickets import services
from tickets.models import CancelReason, Collaborator, Ticket, TicketState

pytestmark = pytest.mark.django_db

S = TicketState

# name, from state, inputs, to state
ALLOWED = [
    ("unassign", S.ASSIGNED, {}, S.NEW),
    ("respond", S.ASSIGNED, {}, S.IN_PROGRESS),
    ("wait_for_customer", S.IN_PROGRESS, {}, S.PENDING_CUSTOMER),
    ("wait_for_internal", S.IN_PROGRESS, {"waiting_on": Collaborator.LOGISTICS}, S.PENDING_INTERNAL),
    ("resume", S.PENDING_CUSTOMER, {}, S.IN_PROGRESS),
    ("resume", S.PENDING_INTERNAL, {}, S.IN_PROGRESS),
    ("resolve", S.IN_PROGRESS, {"summary": "已补发新耳机，物流单号已告知"}, S.RESOLVED),
    ("close", S.RESOLVED, {}, S.CLOSED),
    ("reopen", S.RESOLVED, {}, S.IN_PROGRESS),
    ("cancel", S.NEW, {"reason": CancelReason.SPAM}, S.CANCELLED),
    ("cancel", S.ASSIGNED, {"reason": CancelReason.WITHDRAWN}, S.CANCELLED),
    ("cancel", S.IN_PROGRESS, {"reason": CancelReason.WITHDRAWN}, S.CANCELLED),
]


@pytest.mark.parametrize(("name", "source", "inputs", "target"), ALLOWED)
def test_allowed_transition_moves_the_ticket_and_records_who_and_why(
    make_ticket, agent, name, source, inputs, target
):
    ticket = make_ticket(source)

    services.ticket_transition(ticket=ticket, actor=agent, name=name, comment="按流程处理", **inputs)

    ticket.refresh_from_db()
    assert ticket.state == target
    latest = ticket.history.latest()
    assert latest.history_user == agent
    assert latest.history_change_reason == f"transition:{name} — 按流程处理"
    assert latest.state == target


@pytest.mark.parametrize(("name", "source", "target"), [
    (name, state, target)
    for name, sources, target in [
        ("respond", [S.NEW, S.IN_PROGRESS, S.RESOLVED, S.CLOSED], S.IN_PROGRESS),
        ("resolve", [S.NEW, S.ASSIGNED, S.PENDING_CUSTOMER, S.CLOSED, S.CANCELLED], S.RESOLVED),
        ("close", [S.NEW, S.IN_PROGRESS, S.CANCELLED, S.CLOSED], S.CLOSED),
        ("reopen", [S.IN_PROGRESS, S.CLOSED, S.CANCELLED], S.IN_PROGRESS),
        ("cancel", [S.RESOLVED, S.CLOSED, S.PENDING_CUSTOMER], S.CANCELLED),
        ("resume", [S.NEW, S.IN_PROGRESS, S.RESOLVED], S.IN_PROGRESS),
        ("wait_for_customer", [S.NEW, S.ASSIGNED, S.RESOLVED], S.PENDING_CUSTOMER),
    ]
    for state in sources
])
def test_transition_from_a_wrong_state_is_refused_and_changes_nothing(
    make_ticket, supervisor, name, source, target
):
    ticket = make_ticket(source)
    rows_before = ticket.history.count()

    with pytest.raises(Conflict) as refused:
        services.ticket_transition(ticket=ticket, actor=supervisor, name=name,
                                   summary="x", reason=CancelReason.SPAM)

    assert refused.value.code == "transition_not_allowed"
    ticket.refresh_from_db()
    assert ticket.state == source
    assert ticket.history.count() == rows_before


def test_unknown_transition_is_bad_input(make_ticket, agent):
    with pytest.raises(ValidationError):
        services.ticket_transition(ticket=make_ticket(), actor=agent, name="teleport")


def test_resolving_needs_a_summary(make_ticket, agent):
    ticket = make_ticket(S.IN_PROGRESS)

    with pytest.raises(ValidationError) as refused:
        services.ticket_transition(ticket=ticket, actor=agent, name="resolve", summary="  ")

    assert "summary" in refused.value.message_dict
    ticket.refresh_from_db()
    assert ticket.state == S.IN_PROGRESS


def test_resolving_is_refused_while_a_resolution_is_open(make_ticket, agent):
    ticket = make_ticket(S.IN_PROGRESS)
    Resolution.objects.create(ticket=ticket, kind=ResolutionKind.REFUND_ONLY,
                              state=ResolutionState.APPROVED)

    with pytest.raises(Conflict) as refused:
        services.ticket_transition(ticket=ticket, actor=agent, name="resolve", summary="已退款")

    assert refused.value.code == "open_resolutions"
    assert "resolve" not in [t.name for t in services.ticket_available_transitions(ticket=ticket, user=agent)]


def test_a_completed_resolution_does_not_block_resolving(make_ticket, agent):
    ticket = make_ticket(S.IN_PROGRESS)
    Resolution.objects.create(ticket=ticket, kind=ResolutionKind.REFUND_ONLY,
                              state=ResolutionState.COMPLETED)

    services.ticket_transition(ticket=ticket, actor=agent, name="resolve", summary="已退款")

    assert ticket.state == S.RESOLVED


def test_cancelling_needs_a_reason(make_ticket, agent):
    ticket = make_ticket(S.IN_PROGRESS)

    with pytest.raises(ValidationError):
        services.ticket_transition(ticket=ticket, actor=agent, name="cancel")

    ticket.refresh_from_db()
    assert ticket.state == S.IN_PROGRESS


def test_waiting_on_collaboration_needs_the_department(make_ticket, agent):
    with pytest.raises(ValidationError):
        services.ticket_transition(ticket=make_ticket(), actor=agent, name="wait_for_internal")


def test_reopening_counts(make_ticket, agent):
    ticket = make_ticket(S.RESOLVED)

    services.ticket_transition(ticket=ticket, actor=agent, name="reopen")

    assert ticket.reopened_count == 1
    assert ticket.resolved_at is None


def test_waiting_on_the_customer_pauses_the_sla_clock(make_ticket, agent, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    ticket = make_ticket(S.IN_PROGRESS)
    due = ticket.resolution_due_at

    services.ticket_transition(ticket=ticket, actor=agent, name="wait_for_customer")
    time_machine.shift(timedelta(hours=5))
    services.ticket_transition(ticket=ticket, actor=agent, name="resume")

    ticket.refresh_from_db()
    assert ticket.paused_seconds == 5 * 3600
    assert ticket.resolution_due_at - due == timedelta(seconds=ticket.paused_seconds)
    assert ticket.paused_at is None


# --- who may act ---------------------------------------------------------------------------
def test_only_the_assignee_a_senior_agent_of_the_team_or_a_supervisor_may_act(
    make_ticket, agent, other_agent, senior_agent, supervisor, qa_inspector
):
    for actor in (agent, senior_agent, supervisor):
        ticket = make_ticket(S.IN_PROGRESS)
        services.ticket_transition(ticket=ticket, actor=actor, name="wait_for_customer")
        assert ticket.state == S.PENDING_CUSTOMER

    for outsider in (other_agent, qa_inspector):
        ticket = make_ticket(S.IN_PROGRESS)
        with pytest.raises(PermissionDenied):
            services.ticket_transition(ticket=ticket, actor=outsider, name="wait_for_customer")
        ticket.refresh_from_db()
        assert ticket.state == S.IN_PROGRESS


def test_a_senior_agent_of_another_team_may_not_act(make_ticket, senior_agent, team):
    team.members.remove(senior_agent)
    ticket = make_ticket(S.IN_PROGRESS)

    with pytest.raises(PermissionDenied):
        services.ticket_transition(ticket=ticket, actor=senior_agent, name="wait_for_customer")


def test_qa_sees_no_transitions(make_ticket, qa_inspector):
    assert services.ticket_available_transitions(ticket=make_ticket(), user=qa_inspector) == []


def test_available_transitions_follow_the_state(make_ticket, agent):
    names = [t.name for t in services.ticket_available_transitions(
        ticket=make_ticket(S.IN_PROGRESS), user=agent)]

    assert names == ["wait_for_customer", "wait_for_internal", "resolve", "cancel"]


# --- assignment ------------------------------------------------------------------------------
def test_an_agent_claims_an_unassigned_ticket_of_their_team(new_ticket, agent):
    services.ticket_assign(ticket=new_ticket, actor=agent, assignee=agent)

    assert new_ticket.state == S.ASSIGNED
    assert new_ticket.assignee == agent
    assert new_ticket.history.latest().history_change_reason == "transition:assign"


def test_an_agent_may_not_assign_a_colleague(new_ticket, agent, other_agent):
    with pytest.raises(PermissionDenied):
        services.ticket_assign(ticket=new_ticket, actor=agent, assignee=other_agent)


def test_a_senior_agent_assigns_within_the_team(new_ticket, senior_agent, other_agent):
    services.ticket_transition(ticket=new_ticket, actor=senior_agent, name="assign",
                               assignee=other_agent, comment="熟悉该品类")

    assert new_ticket.assignee == other_agent
    latest = new_ticket.history.latest()
    assert latest.history_user == senior_agent
    assert latest.history_change_reason == "transition:assign — 熟悉该品类"


def test_nobody_is_assigned_outside_the_team(new_ticket, supervisor, complaint_specialist):
    with pytest.raises(ValidationError):
        services.ticket_assign(ticket=new_ticket, actor=supervisor, assignee=complaint_specialist)


def test_qa_cannot_be_assigned_tickets(new_ticket, supervisor, qa_inspector):
    with pytest.raises(ValidationError):
        services.ticket_assign(ticket=new_ticket, actor=supervisor, assignee=qa_inspector)


def test_reassigning_keeps_the_state_and_is_recorded(make_ticket, supervisor, other_agent):
    ticket = make_ticket(S.IN_PROGRESS)

    services.ticket_assign(ticket=ticket, actor=supervisor, assignee=other_agent, comment="休假")

    assert ticket.state == S.IN_PROGRESS
    assert ticket.history.latest().history_change_reason == "reassign — 休假"


# --- merging duplicates ----------------------------------------------------------------------
def test_merging_a_duplicate_moves_its_messages_and_cancels_it(make_ticket, agent):
    survivor = make_ticket(S.IN_PROGRESS)
    duplicate = make_ticket(S.NEW, customer=survivor.customer)
    duplicate.messages.create(kind="inbound", body="同一个问题又提交了一次")

    services.ticket_transition(ticket=duplicate, actor=agent, name="cancel",
                               reason=CancelReason.DUPLICATE, merged_into=survivor)

    duplicate.refresh_from_db()
    assert duplicate.state == S.CANCELLED
    assert duplicate.merged_into == survivor
    assert duplicate.messages.count() == 0
    assert survivor.messages.filter(body="同一个问题又提交了一次").exists()
    moved = survivor.messages.get().history.latest()
    assert moved.history_change_reason == f"merge:{duplicate.number}->{survivor.number}"


def test_only_tickets_of_one_customer_merge(make_ticket, agent):
    survivor = make_ticket(S.IN_PROGRESS)
    stranger = make_ticket(S.NEW)

    with pytest.raises(Conflict):
        services.ticket_merge(duplicate=stranger, into=survivor, actor=agent)
    stranger.refresh_from_db()
    assert stranger.state == S.NEW


def test_a_duplicate_must_name_the_surviving_ticket(make_ticket, agent):
    with pytest.raises(ValidationError):
        services.ticket_transition(ticket=make_ticket(S.NEW), actor=agent, name="cancel",
                                   reason=CancelReason.DUPLICATE)


# --- the state machine itself, without a database --------------------------------------------
def test_transitions_change_fields_only_and_need_no_database():
    ticket = Ticket(state=S.IN_PROGRESS, resolution_summary="已处理")
    ticket.resolve(at=timezone.now())

    assert ticket.state == S.RESOLVED
    assert ticket.pk is None


def test_the_state_field_cannot_be_set_directly():
    ticket = TicketFactory.build(state=S.NEW)

    with pytest.raises(AttributeError):
        ticket.state = S.CLOSED
