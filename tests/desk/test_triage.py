"""Triage context: queue rows with the customer's last words and wait, tab counts, the day."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.models import OutboxChannel
from notifications.services.delivery import notify
from tests.factories import MessageFactory, TicketFactory
from tickets.models import MessageKind, Priority, Team, TicketState
from tickets.selectors import QUEUE_COUNT_CAP, queue_counts

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]

S = TicketState


def _queue(client, user, key="mine", **params):
    client.force_login(user)
    return client.get(reverse("console-queue", args=[key]), params)


# --- queue rows -----------------------------------------------------------------------------
def test_a_row_shows_the_customers_last_words_trimmed_and_escaped(client, agent, team):
    TicketFactory(team=team, assignee=agent, state=S.IN_PROGRESS, number="CS20261202-000123",
                  last_customer_message="<b>快递</b>" + "还没到" * 30,
                  customer_waiting_since=timezone.now() - timedelta(hours=3, minutes=5))

    html = _queue(client, agent).content.decode()

    assert "&lt;b&gt;快递&lt;/b&gt;" in html
    assert "<b>快递</b>" not in html
    preview = html.split('class="last-message')[1].split("</div>")[0]
    shown = preview.split(">", 1)[1]
    assert shown.endswith("…")
    assert len(shown) < 80  # 40 characters, escaped
    assert "3h 5m" in html


def test_a_row_opens_its_ticket_and_keeps_the_number_as_a_link(client, agent, team):
    ticket = TicketFactory(team=team, assignee=agent, state=S.IN_PROGRESS)
    # The row carries its queue, for the workspace's next and previous ticket.
    url = reverse("console-ticket", args=[ticket.number]) + "?queue=mine"

    html = _queue(client, agent).content.decode()

    assert f'data-href="{url}"' in html
    assert f'<a href="{url}">{ticket.number}</a>' in html


def test_a_ticket_we_answered_shows_no_waiting_time(client, agent, team):
    TicketFactory(team=team, assignee=agent, state=S.IN_PROGRESS, customer_waiting_since=None)

    html = _queue(client, agent).content.decode()

    assert 'class="customer-waiting"' not in html


# --- tab counts ---------------------------------------------------------------------------
def test_each_tab_counts_its_queue(agent, team):
    TicketFactory.create_batch(2, team=team, assignee=agent, state=S.IN_PROGRESS)
    TicketFactory(team=team, state=S.NEW)
    TicketFactory(team=team, assignee=agent, state=S.PENDING_CUSTOMER)

    counts = queue_counts(user=agent)

    assert counts["mine"] == 3
    assert counts["unassigned"] == 1
    assert counts["team"] == 4
    assert counts["waiting_customer"] == 1
    assert counts["escalated"] == 0


def test_counts_stop_at_the_cap_and_show_as_99_plus(client, agent, team):
    TicketFactory.create_batch(QUEUE_COUNT_CAP + 3, team=team, assignee=agent,
                               state=S.IN_PROGRESS)

    assert queue_counts(user=agent)["mine"] == QUEUE_COUNT_CAP
    client.force_login(agent)
    html = client.get(reverse("console-queue-counts")).content.decode()
    assert f'data-count="{QUEUE_COUNT_CAP}">99+</span>' in html


def test_the_tabs_load_their_counts_after_the_page(client, agent, team,
                                                   django_assert_num_queries):
    TicketFactory(team=team, assignee=agent, state=S.IN_PROGRESS)
    page = _queue(client, agent).content.decode()
    for key in ("mine", "team", "unassigned"):
        assert f'<span id="queue-count-{key}"></span>' in page
    assert f'hx-get="{reverse("console-queue-counts")}" hx-trigger="load"' in page

    # Session, the user with roles and permissions, teams, then one statement for every tab.
    with django_assert_num_queries(4):
        counts = client.get(reverse("console-queue-counts")).content.decode()

    assert ('<span id="queue-count-mine" hx-swap-oob="true"> <span class="badge rounded-pill '
            'text-bg-light border queue-count" data-count="1">1</span></span>') in counts
    assert counts.count('hx-swap-oob="true"') == 8


def test_only_people_who_work_tickets_read_the_counts(client, qa_inspector):
    client.force_login(qa_inspector)

    assert client.get(reverse("console-queue-counts")).status_code == 403


def test_a_user_without_tickets_to_read_counts_nothing():
    from django.contrib.auth import get_user_model

    nobody = get_user_model().objects.create_user("nobody")

    assert set(queue_counts(user=nobody).values()) == {0}


def test_an_agent_in_no_team_counts_their_own_and_no_team_queue(client, agent):
    Team.members.through.objects.filter(user=agent).delete()
    TicketFactory(assignee=agent, state=S.IN_PROGRESS)

    counts = queue_counts(user=agent)

    assert counts["mine"] == 1
    assert counts["team"] == counts["unassigned"] == 0
    assert _queue(client, agent).status_code == 200


def test_a_capped_count_shows_as_99_plus():
    from desk.templatetags.console import capped

    assert (capped(QUEUE_COUNT_CAP), capped(QUEUE_COUNT_CAP - 1), capped(0)) == ("99+", "99", "0")


# --- filters apply on change -----------------------------------------------------------------
def test_the_filter_form_applies_on_change_and_keeps_a_button_for_no_script(client, agent, team):
    html = _queue(client, agent).content.decode()

    assert 'id="queue-filters" data-apply-on-change' in html
    assert "data-filter-submit" in html


# --- the agent's day -----------------------------------------------------------------------
def test_the_home_page_shows_the_agents_day(client, agent, team):
    now = timezone.now()
    TicketFactory(team=team, assignee=agent, state=S.IN_PROGRESS, priority=Priority.P0,
                  resolution_due_at=now - timedelta(hours=1), number="CS20261202-000901")
    TicketFactory(team=team, assignee=agent, state=S.IN_PROGRESS, priority=Priority.P2,
                  resolution_due_at=now + timedelta(hours=5))
    TicketFactory(team=team, assignee=agent, state=S.RESOLVED, resolved_at=now)
    answered = TicketFactory(team=team, assignee=agent, state=S.IN_PROGRESS,
                             first_response_at=now, first_response_due_at=now + timedelta(hours=1))
    MessageFactory(ticket=answered, kind=MessageKind.REPLY, author=agent)
    notify(template="sla.first_response_reminder", channel=OutboxChannel.INTERNAL,
           ticket=answered, user=agent)
    client.force_login(agent)

    response = client.get(reverse("home"))

    day = response.context["day"]
    assert day.by_priority == [(0, 1), (1, 0), (2, 2), (3, 0)]
    assert day.overdue == 1
    assert day.due_soon[0]["number"] == "CS20261202-000901"
    assert day.replies_today == 1
    assert day.resolved_today == 1
    assert (day.first_responses_in_time, day.first_responses_today) == (1, 1)
    assert len(day.notifications) == 1
    html = response.content.decode()
    assert 'data-testid="my-day"' in html
    assert reverse("console-ticket", args=["CS20261202-000901"]) in html
    assert reverse("notification-list") in html


def test_a_role_that_works_no_tickets_has_no_day(client, qa_inspector):
    client.force_login(qa_inspector)

    response = client.get(reverse("home"))

    assert response.context["day"] is None


# The session, the user with roles and permissions, teams, the role panels' figures (two), the
# day (six: open tickets by priority, due next, notifications, replies, resolved, first
# responses), the unread badge and the approvals badge (its count also fills the home card).
HOME_QUERIES = 13


@pytest.mark.parametrize("count", [2, 30])
def test_the_home_page_costs_the_same_whatever_the_tickets(client, agent, team, count,
                                                           django_assert_num_queries):
    for _ in range(count):
        ticket = TicketFactory(team=team, assignee=agent, state=S.IN_PROGRESS,
                               resolution_due_at=timezone.now() + timedelta(hours=1))
        MessageFactory(ticket=ticket, kind=MessageKind.REPLY, author=agent)
    client.force_login(agent)

    with django_assert_num_queries(HOME_QUERIES):
        client.get(reverse("home"))
