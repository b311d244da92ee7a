"""The approvals inbox (issue 17, point 3): what waits for me, the top bar's count, approving and
rejecting with a reason, the home page's card."""

import re
from datetime import timedelta
from decimal import Decimal
from itertools import product

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone, translation

from core.models.roles import Role
from desk.selectors.approvals import (
    INBOX_CAP,
    approvals_waiting_count,
    resolutions_awaiting,
    rule_display_name,
)
from policies.models import ApprovalLimit, PolicyRule
from policies.services import changesets
from resolutions.models import ResolutionState
from resolutions.services import approval_limit, can_approve
from tests.factories import TeamFactory, UserFactory
from tests.resolutions.money import order_with_items, ready_resolution, ticket_about
from tickets.models import Ticket

# Written against English messages, as the other console tests.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]
RS = ResolutionState
INBOX = "/tickets/approvals/"


@pytest.fixture
def limits(db):
    """The default limits: agent 500, senior agent 2000, complaint specialist 5000,
    supervisor 20000, QA nothing, risk/legal without limit."""
    ApprovalLimit.objects.all().delete()
    for role, amount in [("agent", "500"), ("senior_agent", "2000"),
                         ("complaint_specialist", "5000"), ("supervisor", "20000"),
                         ("qa", "0")]:
        ApprovalLimit.objects.create(role=role, max_amount=Decimal(amount))
    ApprovalLimit.objects.create(role="risk_legal", max_amount=None)


def waiting(make_ticket, *, refund="1200.00", role=Role.SUPERVISOR, proposer=None,
            waited=timedelta(hours=1), state=RS.ACCEPTED, team=None):
    """Return a resolution the customer agreed to that needs `role`'s approval."""
    _order, (item,) = order_with_items("50000.00")
    ticket = ticket_about(make_ticket, item)
    if team is not None:  # another team's ticket
        Ticket.objects.filter(pk=ticket.pk).update(team=team)
        ticket.refresh_from_db()
    return ready_resolution(ticket, refund=refund, approval_role=role, state=state,
                            proposed_by=proposer or ticket.assignee,
                            accepted_at=timezone.now() - waited,
                            rule_name="Quality refund above the automatic limit")


def rows(page: str) -> list[str]:
    return re.findall(r'<tr data-resolution="(\d+)"', page)


# --- what waits for me -------------------------------------------------------------------------
def test_the_inbox_lists_what_waits_for_me_oldest_first(client, supervisor, agent, make_ticket,
                                                        limits):
    newer = waiting(make_ticket, refund="1200.00", waited=timedelta(minutes=5))
    older = waiting(make_ticket, refund="3499.50", waited=timedelta(hours=26))
    waiting(make_ticket, state=RS.PROPOSED)  # the customer has not agreed yet
    waiting(make_ticket, state=RS.APPROVED)  # already decided
    waiting(make_ticket, role=Role.RISK_LEGAL)  # reserved to risk/legal
    client.force_login(supervisor)

    response = client.get(INBOX)
    page = response.content.decode()

    assert response.status_code == 200
    assert rows(page) == [str(older.pk), str(newer.pk)]
    row = re.search(rf'<tr data-resolution="{older.pk}".*?</tr>', page, re.S).group(0)
    assert f'href="/tickets/{older.ticket.number}/"' in row
    assert "¥3499.50" in row
    assert "Quality refund above the automatic limit" in row
    assert str(agent) in row  # the proposer
    assert re.search(r"<time[^>]*>1\xa0day, 2\xa0hours</time>", row)  # how long it waited


def test_my_own_proposal_never_waits_for_me(client, supervisor, make_ticket, limits):
    waiting(make_ticket, proposer=supervisor)
    client.force_login(supervisor)

    assert rows(client.get(INBOX).content.decode()) == []
    assert approvals_waiting_count(supervisor) == 0


def test_only_what_my_role_and_limit_cover_and_tickets_i_read(client, senior_agent, make_ticket,
                                                              other_agent, limits):
    within = waiting(make_ticket, refund="1500.00", role=Role.SENIOR_AGENT, proposer=other_agent)
    waiting(make_ticket, refund="2500.00", role=Role.SENIOR_AGENT)  # above 2000
    waiting(make_ticket, refund="100.00", role=Role.SUPERVISOR)  # needs a higher role
    waiting(make_ticket, refund="100.00", role=Role.SENIOR_AGENT,
            team=TeamFactory(code="other_team"))  # a team the senior agent is not in
    client.force_login(senior_agent)

    assert rows(client.get(INBOX).content.decode()) == [str(within.pk)]


def test_the_inbox_agrees_with_who_may_approve(make_ticket, personas, limits, agent):
    """For every role, approving role and amount: in the inbox exactly when the service allows."""
    risk_ticket_team = TeamFactory(code="everyone")
    risk_ticket_team.members.add(*personas.values())
    proposer = UserFactory(username="proposer")
    proposer.groups.add(Group.objects.get(name=Role.AGENT))
    resolutions = [
        waiting(make_ticket, refund=amount, role=role, proposer=proposer, team=risk_ticket_team)
        for role, amount in product(
            ["agent", "senior_agent", "complaint_specialist", "supervisor", "risk_legal", ""],
            ["400.00", "1999.99", "4000.00", "25000.00"])
    ]
    for user in personas.values():
        limit = approval_limit(user)
        expected = {r.pk for r in resolutions if can_approve(r, user)
                    and (limit is None or r.amount <= limit)}
        assert set(resolutions_awaiting(user).values_list("pk", flat=True)) == expected, user


def test_agents_without_approval_rights_are_refused(client, qa_inspector, agent, limits):
    client.force_login(qa_inspector)
    assert client.get(INBOX).status_code == 403
    assert 'data-nav="approvals"' not in client.get(reverse("home")).content.decode()

    ApprovalLimit.objects.filter(role=Role.AGENT).update(max_amount=Decimal("0"))
    client.force_login(agent)
    assert client.get(INBOX).status_code == 403


def test_the_page_costs_a_fixed_number_of_queries(client, supervisor, other_agent, make_ticket,
                                                  limits, django_assert_num_queries):
    for _ in range(3):
        waiting(make_ticket, proposer=other_agent)
    client.force_login(supervisor)
    client.get(INBOX)  # the first request of a session loads what later ones reuse

    # Session, the user with roles and permissions, the resolutions, the change sets, the top
    # bar's approvals count, the unread notifications. (A supervisor approves change sets, so
    # the page's door needs no look at the approval limits.)
    with django_assert_num_queries(6):
        few = client.get(INBOX).content.decode()
    for _ in range(12):
        waiting(make_ticket, proposer=other_agent)
    with django_assert_num_queries(6):
        many = client.get(INBOX).content.decode()

    assert len(rows(few)) == 3
    assert len(rows(many)) == 15


def test_the_inbox_is_capped(client, supervisor, make_ticket, limits, monkeypatch):
    monkeypatch.setattr("desk.selectors.approvals.INBOX_CAP", 2)
    for _ in range(3):
        waiting(make_ticket)
    client.force_login(supervisor)

    page = client.get(INBOX).content.decode()

    assert len(rows(page)) == 2
    assert "More resolutions are waiting" in page
    assert INBOX_CAP == 50


# --- policy change sets ------------------------------------------------------------------------
@pytest.fixture
def other_supervisor(db):
    user = UserFactory(username="supervisor_sun", is_staff=True)
    user.groups.add(Group.objects.get(name=Role.SUPERVISOR))
    return user


def submitted_limit_change(author):
    limit = ApprovalLimit.objects.get(role=Role.AGENT)
    item = changesets.propose_limit(actor=author, limit=limit,
                                    values={"max_amount": Decimal("600")})
    return changesets.submit(actor=author, change_set=item.change_set, title="Agents: 600")


def test_change_sets_wait_for_the_roles_they_still_need(client, supervisor, other_supervisor,
                                                        risk_officer, limits):
    change_set = submitted_limit_change(supervisor)
    link = reverse("admin:policies_policychangeset_change", args=[change_set.pk])

    client.force_login(supervisor)  # the author
    assert link not in client.get(INBOX).content.decode()
    client.force_login(other_supervisor)
    assert f'<a href="{link}">#{change_set.pk} Agents: 600</a>' in client.get(INBOX).content.decode()
    assert approvals_waiting_count(risk_officer) == 1

    changesets.approve(actor=risk_officer, change_set=change_set)
    assert approvals_waiting_count(risk_officer) == 0  # risk/legal has given theirs
    assert approvals_waiting_count(other_supervisor) == 1  # a supervisor's is still missing


# --- the top bar and the home page -------------------------------------------------------------
def test_the_top_bar_counts_what_waits_and_links_to_the_inbox(client, supervisor, other_supervisor,
                                                              make_ticket, limits):
    waiting(make_ticket)
    waiting(make_ticket)
    submitted_limit_change(other_supervisor)
    client.force_login(supervisor)

    page = client.get(reverse("home")).content.decode()

    nav = re.search(r'<a[^>]*data-nav="approvals"[^>]*>.*?</a>', page, re.S).group(0)
    assert f'href="{INBOX}"' in nav
    assert re.search(r'data-testid="approvals-waiting">3</span>', nav)
    card = re.search(r'<section[^>]*data-panel="approvals".*?</section>', page, re.S).group(0)
    assert 'data-testid="home-approvals-count">3<' in card
    assert f'href="{INBOX}"' in card


def test_nothing_waiting_shows_no_badge_and_no_card(client, supervisor, limits):
    client.force_login(supervisor)

    page = client.get(reverse("home")).content.decode()

    assert 'data-nav="approvals"' in page
    assert "approvals-waiting" not in page
    assert 'data-panel="approvals"' not in page


# --- deciding from the inbox -------------------------------------------------------------------
def decide(client, resolution, **data):
    return client.post(reverse("console-approval-decide", args=[resolution.pk]), data)


def test_approving_from_the_inbox_records_the_note(client, supervisor, make_ticket, limits,
                                                   settings):
    settings.TASKS_RUN_INLINE = False
    resolution = waiting(make_ticket)
    client.force_login(supervisor)

    response = decide(client, resolution, name="approve", comment="质检报告已核实")

    assert response.status_code == 302
    assert response["Location"] == INBOX
    resolution.refresh_from_db()
    assert resolution.state != RS.ACCEPTED
    assert resolution.approved_by == supervisor
    reasons = list(resolution.history.values_list("history_change_reason", flat=True))
    assert "transition:approve — 质检报告已核实" in reasons


def test_approving_without_a_note_is_fine(client, supervisor, make_ticket, limits):
    resolution = waiting(make_ticket)
    client.force_login(supervisor)

    decide(client, resolution, name="approve", comment="")

    resolution.refresh_from_db()
    assert resolution.approved_by == supervisor


@pytest.mark.parametrize("reason", ["", "   "], ids=["empty", "blank"])
def test_rejecting_needs_a_reason(client, supervisor, make_ticket, limits, reason):
    resolution = waiting(make_ticket)
    client.force_login(supervisor)

    response = decide(client, resolution, name="reject", reason=reason)

    assert response.status_code == 400
    page = response.content.decode()
    assert "Give a reason; it goes into the audit trail." in page
    # The reject box stays open on the row it was for.
    assert re.search(rf'<tr data-resolution="{resolution.pk}".*?<details class="confirm-box" '
                     r'data-confirm="reject" open>', page, re.S)
    resolution.refresh_from_db()
    assert resolution.state == RS.ACCEPTED


def test_rejecting_records_the_reason(client, supervisor, make_ticket, limits):
    resolution = waiting(make_ticket)
    client.force_login(supervisor)

    decide(client, resolution, name="reject", reason="金额与检测报告不符")

    resolution.refresh_from_db()
    assert resolution.state == RS.REJECTED
    assert resolution.history.filter(
        history_change_reason="transition:reject — 金额与检测报告不符").exists()


def test_the_inbox_only_approves_and_rejects(client, supervisor, make_ticket, limits):
    resolution = waiting(make_ticket)
    client.force_login(supervisor)

    assert decide(client, resolution, name="cancel", reason="x").status_code == 400
    resolution.refresh_from_db()
    assert resolution.state == RS.ACCEPTED


def test_the_service_still_decides_who_may(client, senior_agent, make_ticket, limits):
    """A resolution above the limit is refused even when posted by hand."""
    resolution = waiting(make_ticket, refund="2500.00", role=Role.SENIOR_AGENT)
    client.force_login(senior_agent)

    assert decide(client, resolution, name="approve").status_code == 403
    resolution.refresh_from_db()
    assert resolution.state == RS.ACCEPTED


def test_a_ticket_i_do_not_read_is_not_found(client, senior_agent, make_ticket, limits):
    resolution = waiting(make_ticket, role=Role.SENIOR_AGENT, refund="10.00",
                         team=TeamFactory(code="elsewhere"))
    client.force_login(senior_agent)

    assert decide(client, resolution, name="approve").status_code == 404


# --- the inbox's markup ------------------------------------------------------------------------
def test_each_reason_box_is_labelled_inside_its_own_form(client, supervisor, make_ticket, limits):
    resolution = waiting(make_ticket)
    client.force_login(supervisor)

    page = client.get(INBOX).content.decode()

    approve = re.search(r'<form[^>]*data-action="approve".*?</form>', page, re.S).group(0)
    reject = re.search(r'<form[^>]*data-action="reject".*?</form>', page, re.S).group(0)
    assert f'<label class="small fw-semibold" for="approve-comment-{resolution.pk}">Note for ' \
           'the approval (optional)</label>' in approve
    assert re.search(rf'<input name="comment" id="approve-comment-{resolution.pk}"', approve)
    assert "required" not in approve
    assert f'for="reject-reason-{resolution.pk}">Why is it rejected?</label>' in reject
    assert re.search(rf'<input name="reason" id="reject-reason-{resolution.pk}"[^>]* required',
                     reject)


def test_the_resolution_card_labels_the_approval_note(client, supervisor, make_ticket, limits):
    resolution = waiting(make_ticket)
    client.force_login(supervisor)

    page = client.get(reverse("console-ticket", args=[resolution.ticket.number])).content.decode()

    approve = re.search(r'<form[^>]*data-action="approve".*?</form>', page, re.S).group(0)
    assert re.search(rf'<label[^>]*for="comment-approve-{resolution.pk}">Note for the approval '
                     r'\(optional\)</label>', approve)
    assert re.search(rf'<input name="comment" id="comment-approve-{resolution.pk}"', approve)
    assert 'name="reason"' not in approve


def test_rule_names_follow_the_language():
    with translation.override("zh-hans"):
        assert rule_display_name("Seven-day return", "七天无理由退货") == "七天无理由退货"
        assert rule_display_name("Seven-day return", "") == "Seven-day return"
    with translation.override("en"):
        assert rule_display_name("Seven-day return", "七天无理由退货") == "Seven-day return"


def test_the_inbox_names_the_rule_in_chinese_on_chinese_pages(client, supervisor, make_ticket,
                                                              limits, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    resolution = waiting(make_ticket)
    rule = PolicyRule.objects.create(
        name="Quality refund above the limit", name_zh="质量问题退款（超额审批）",
        kind="refund_only", priority=40, verdict="needs_approval", approval_role="supervisor",
        refund_rule="item_remaining", source="test", reasons=["quality_defect"])
    type(resolution).objects.filter(pk=resolution.pk).update(rule=rule)
    client.force_login(supervisor)

    page = client.get(INBOX, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert rule.name_zh in page


def test_the_badge_counts_for_each_person_though_compiled_once_per_role(
        supervisor, make_ticket, limits):
    """The count's SQL is compiled once for a set of roles; each person still gets their own
    count: their proposals and their teams' tickets are theirs alone."""
    other_supervisor = UserFactory(username="supervisor_zhao")
    other_supervisor.groups.add(Group.objects.get(name=Role.SUPERVISOR))
    waiting(make_ticket, proposer=supervisor)
    waiting(make_ticket, proposer=supervisor)
    waiting(make_ticket, proposer=other_supervisor)

    for _ in range(2):  # the second time from the compiled statement
        assert approvals_waiting_count(supervisor) == 1
        assert approvals_waiting_count(other_supervisor) == 2
        assert approvals_waiting_count(supervisor) == len(resolutions_awaiting(supervisor))
