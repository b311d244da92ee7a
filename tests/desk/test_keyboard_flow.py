"""The server side of the keyboard flow: the queue's previous and next ticket (keyset), the
links that carry the queue, "send and set the status", and the script picker's ranking."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from desk.selectors.workspace import queue_neighbours
from knowledge.models import ScriptTemplate
from knowledge.selectors import script_template_ranked
from resolutions import services as resolution_services
from tests.factories import MessageFactory, TicketFactory
from tickets.models import TicketState

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def mine(team, agent):
    """Five tickets of the agent's own queue in its order (priority, then created time)."""
    start = timezone.now() - timedelta(hours=5)
    made = [TicketFactory(team=team, assignee=agent, state=TicketState.IN_PROGRESS,
                          priority=priority, created_at=start + timedelta(minutes=minutes))
            for priority, minutes in [(2, 30), (1, 10), (2, 15), (1, 20), (3, 0)]]
    # The queue's order: P1 10', P1 20', P2 15', P2 30', P3 0'.
    return [made[1], made[3], made[2], made[0], made[4]]


def test_neighbours_follow_the_queues_order(agent, mine):
    numbers = [ticket.number for ticket in mine]
    for index, ticket in enumerate(mine):
        around = queue_neighbours(user=agent, queue="mine", ticket=ticket)
        assert around.previous == (numbers[index - 1] if index else None)
        assert around.next == (numbers[index + 1] if index + 1 < len(numbers) else None)


def test_neighbours_ignore_other_queues_and_follow_a_newest_first_sort(agent, other_agent,
                                                                       team, mine):
    TicketFactory(team=team, assignee=other_agent, state=TicketState.IN_PROGRESS, priority=1)
    around = queue_neighbours(user=agent, queue="mine", ticket=mine[0])
    assert around.next == mine[1].number  # the colleague's ticket is not in "mine"

    by_age = sorted(mine, key=lambda ticket: ticket.created_at, reverse=True)
    around = queue_neighbours(user=agent, queue="mine", ticket=by_age[1], sort="newest")
    assert (around.previous, around.next) == (by_age[0].number, by_age[2].number)


def test_a_ticket_without_due_time_sorts_last_in_a_due_queue(agent, mine):
    late = mine[2]
    late.resolution_due_at = None
    late.save(update_fields=["resolution_due_at"])
    by_due = sorted((ticket for ticket in mine if ticket is not late),
                    key=lambda ticket: ticket.resolution_due_at)

    assert queue_neighbours(user=agent, queue="mine", ticket=late, sort="due").next is None
    assert queue_neighbours(user=agent, queue="mine", ticket=late,
                            sort="due").previous == by_due[-1].number
    assert queue_neighbours(user=agent, queue="mine", ticket=by_due[-1],
                            sort="due").next == late.number


def test_neighbours_cost_two_queries_and_an_unknown_queue_none(agent, mine,
                                                               django_assert_num_queries):
    queue_neighbours(user=agent, queue="mine", ticket=mine[0])  # the user's teams are known
    for ticket in (mine[0], mine[2], mine[4]):
        with django_assert_num_queries(2):
            queue_neighbours(user=agent, queue="mine", ticket=ticket)
    assert queue_neighbours(user=agent, queue="nonsense", ticket=mine[2]) is None


def test_queue_rows_carry_the_queue_into_the_workspace(client, agent, mine):
    client.force_login(agent)

    page = client.get(reverse("console-queue", args=["mine"])).content.decode()

    url = f'{reverse("console-ticket", args=[mine[0].number])}?queue=mine'
    assert f'<tr data-ticket="{mine[0].number}" data-href="{url}"' in page
    assert f'<a href="{url}">' in page


def test_the_workspace_links_the_queues_previous_and_next_ticket(client, agent, mine):
    client.force_login(agent)

    page = client.get(reverse("console-ticket", args=[mine[2].number]),
                      {"queue": "mine"}).content.decode()

    assert (f'href="{reverse("console-ticket", args=[mine[3].number])}?queue=mine" '
            'data-shortcut="next-ticket"') in page
    assert (f'href="{reverse("console-ticket", args=[mine[1].number])}?queue=mine" '
            'data-shortcut="previous-ticket"') in page
    plain = client.get(reverse("console-ticket", args=[mine[2].number])).content.decode()
    assert 'data-shortcut="next-ticket"' not in plain


def test_every_page_lists_the_shortcuts_and_loads_the_keyboard_script(client, agent):
    client.force_login(agent)

    page = client.get(reverse("console-queue", args=["mine"])).content.decode()

    assert '<dialog id="shortcuts-dialog"' in page
    assert 'aria-labelledby="shortcuts-title"' in page
    assert "js/keyboard.js" in page


def test_send_and_wait_for_the_customer(client, agent, make_ticket):
    ticket = make_ticket()
    client.force_login(agent)

    client.post(reverse("console-reply", args=[ticket.number]),
                {"kind": "reply", "body": "请您补充一张照片。", "then": "wait_for_customer"}, **HTMX)

    ticket.refresh_from_db()
    assert ticket.state == TicketState.PENDING_CUSTOMER
    assert ticket.messages.get().body == "请您补充一张照片。"


def test_send_and_resolve_makes_the_reply_the_summary(client, agent, make_ticket):
    ticket = make_ticket()
    client.force_login(agent)

    client.post(reverse("console-reply", args=[ticket.number]),
                {"kind": "reply", "body": "已为您补发，单号 SF123。", "then": "resolve"}, **HTMX)

    ticket.refresh_from_db()
    assert ticket.state == TicketState.RESOLVED
    assert ticket.resolution_summary == "已为您补发，单号 SF123。"


def test_a_refused_status_change_keeps_the_reply_and_says_why(client, agent, make_ticket):
    ticket = make_ticket(state=TicketState.PENDING_CUSTOMER)
    client.force_login(agent)

    response = client.post(reverse("console-reply", args=[ticket.number]),
                           {"kind": "reply", "body": "还在等您的照片。",
                            "then": "wait_for_customer"}, **HTMX)

    assert ticket.messages.filter(body="还在等您的照片。").exists()
    assert "the status was not changed" in response.content.decode()


def _script(title, scenario, *, used=0):
    return ScriptTemplate.objects.create(title=title, scenario=scenario, language="en",
                                         body=f"{title} …", usage_count=used)


def test_scripts_for_the_resolution_then_the_category_come_first(agent):
    _script("Hello", "greeting", used=50)
    _script("Sorry", "apology", used=5)
    _script("Refund", "refund")
    _script("Parcel", "logistics", used=9)

    def titles(**ticket):
        return [template.title for template in script_template_ranked(
            user=agent, language="en", **ticket)]

    assert titles() == ["Hello", "Parcel", "Sorry", "Refund"]  # the most used first
    assert titles(category="quality_damage") == ["Sorry", "Hello", "Parcel", "Refund"]
    assert titles(category="quality_damage", resolution_kinds=["refund_only"]) == [
        "Refund", "Sorry", "Hello", "Parcel"]


def test_the_picker_ranks_for_the_tickets_open_resolution(client, agent, team):
    from decimal import Decimal

    from policies.models import PolicyRule
    from tests.factories import OrderItemFactory

    PolicyRule.objects.all().delete()
    PolicyRule.objects.create(
        name="Coupon", kind="compensation_coupon", priority=20, reasons=["quality_defect"],
        verdict="allow", coupon_amount=Decimal("10"), source="test")
    item = OrderItemFactory()
    ticket = TicketFactory(team=team, assignee=agent, state=TicketState.IN_PROGRESS,
                           category="order_late", customer=item.order.customer,
                           order=item.order, order_item=item, request_reason="quality_defect")
    _script("Hello", "greeting", used=50)
    _script("Refund", "refund")
    _script("Parcel", "logistics", used=9)
    resolution_services.resolution_propose(ticket=ticket, actor=agent,
                                           kind="compensation_coupon")
    _script("Sorry", "apology")
    client.force_login(agent)

    response = client.get(reverse("console-scripts", args=[ticket.number]), **HTMX)

    assert [t.title for t in response.context["script_templates"]] == [
        "Sorry", "Parcel", "Hello", "Refund"]
    page = response.content.decode()
    assert 'role="combobox"' in page
    assert 'role="listbox"' in page
    assert page.count("Fits this ticket") == 2


def test_the_reply_form_carries_the_latest_message_seen(client, agent, make_ticket):
    ticket = make_ticket()
    latest = MessageFactory(ticket=ticket)
    client.force_login(agent)

    page = client.get(reverse("console-ticket", args=[ticket.number])).content.decode()

    assert f'<input type="hidden" name="seen" value="{latest.pk}">' in page


def test_the_queues_neighbours_cost_the_workspace_two_queries(client, agent, mine):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(agent)
    url = reverse("console-ticket", args=[mine[2].number])
    client.get(url)  # warm: the session and caches

    with CaptureQueriesContext(connection) as plain:
        client.get(url)
    with CaptureQueriesContext(connection) as from_queue:
        client.get(url, {"queue": "mine"})

    assert len(from_queue) == len(plain) + 2
