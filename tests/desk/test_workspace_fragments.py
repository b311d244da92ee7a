"""The parts of the workspace that load on demand: earlier messages, the script picker and
the customer's earlier tickets and refunds. Each answers only who may read the ticket."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from knowledge.models import ScriptTemplate
from tests.factories import MessageFactory, TeamFactory, TicketFactory
from tickets.models import Attachment, TicketState
from tickets.selectors import ticket_timeline_page

# Written against English messages, as the ticket tests they came from.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]
HTMX = {"HTTP_HX_REQUEST": "true"}


def conversation(ticket, count):
    """Add `count` messages a minute apart, oldest first; return them."""
    start = timezone.now() - timedelta(days=1)
    return [MessageFactory(ticket=ticket, body=f"消息 {index}",
                           created_at=start + timedelta(minutes=index))
            for index in range(count)]


def message_ids(page):
    return [item["message"]["id"] for item in page.items if item["type"] == "message"]


def test_the_workspace_shows_the_latest_page_and_offers_earlier_messages(client, agent,
                                                                         make_ticket):
    ticket = make_ticket()
    messages = conversation(ticket, 35)
    client.force_login(agent)

    response = client.get(reverse("console-ticket", args=[ticket.number]))

    page = response.content.decode()
    assert "消息 34" in page
    assert "消息 5" in page
    assert "消息 4<" not in page
    assert response.context["timeline_earlier"] == messages[5].pk
    assert 'data-testid="load-earlier"' in page


def test_pages_of_the_timeline_run_oldest_first_and_meet_without_gaps(make_ticket):
    ticket = make_ticket()
    messages = conversation(ticket, 7)

    latest = ticket_timeline_page(ticket=ticket, size=3)
    middle = ticket_timeline_page(ticket=ticket, before=latest.earlier, size=3)
    first = ticket_timeline_page(ticket=ticket, before=middle.earlier, size=3)

    ids = [message.pk for message in messages]
    assert message_ids(latest) == ids[4:]
    assert message_ids(middle) == ids[1:4]
    assert message_ids(first) == ids[:1]
    assert first.earlier is None


def test_a_page_exactly_as_long_as_what_is_left_offers_nothing_earlier(make_ticket):
    ticket = make_ticket()
    conversation(ticket, 3)

    assert ticket_timeline_page(ticket=ticket, size=3).earlier is None
    assert ticket_timeline_page(ticket=ticket, size=2).earlier is not None


def test_actions_and_loose_files_show_once_on_the_page_of_their_time(make_ticket):
    ticket = make_ticket()
    messages = conversation(ticket, 4)
    between = messages[1].created_at + timedelta(seconds=30)
    Attachment.objects.create(ticket=ticket, evidence_kind="photo", file="evidence/x.png",
                              label="x.png", content_type="image/png", size=1,
                              sha256="0" * 64, created_at=between)

    latest = ticket_timeline_page(ticket=ticket, size=2)
    first = ticket_timeline_page(ticket=ticket, before=latest.earlier, size=2)

    def loose(page):
        return [item for item in page.items if item["type"] == "attachment"]

    assert len(loose(first)) == 1
    assert not loose(latest)
    # The ticket's creation is recorded now, after the (backdated) messages: latest page only.
    assert [item["type"] for item in latest.items][-1] == "event"
    assert not [item for item in first.items if item["type"] == "event"]
    assert [item["at"] for item in first.items] == sorted(item["at"] for item in first.items)


def test_earlier_messages_come_as_a_fragment_that_ends_before_the_given_message(
        client, agent, make_ticket):
    ticket = make_ticket()
    messages = conversation(ticket, 33)
    client.force_login(agent)

    response = client.get(reverse("console-timeline", args=[ticket.number]),
                          {"before": messages[3].pk}, **HTMX)

    page = response.content.decode()
    assert response.status_code == 200
    assert "消息 0" in page
    assert "消息 2" in page
    assert "消息 3" not in page
    assert 'data-testid="load-earlier"' not in page
    assert "<html" not in page


@pytest.mark.parametrize("before", ["", "abc", "-1", "0", "99999999999999999999"])
def test_earlier_messages_without_a_valid_message_are_a_400(client, agent, make_ticket, before):
    ticket = make_ticket()
    client.force_login(agent)

    response = client.get(reverse("console-timeline", args=[ticket.number]), {"before": before})

    assert response.status_code == 400


@pytest.mark.parametrize("name", ["console-timeline", "console-scripts",
                                  "console-customer-history"])
def test_another_teams_agent_gets_404_from_every_fragment(client, agent, name):
    hidden = TicketFactory(team=TeamFactory(code="elsewhere"), state=TicketState.IN_PROGRESS)
    message = MessageFactory(ticket=hidden, body="别人的工单")
    client.force_login(agent)

    response = client.get(reverse(name, args=[hidden.number]), {"before": message.pk + 1},
                          **HTMX)

    assert response.status_code == 404
    assert "别人的工单" not in response.content.decode()


def test_the_script_picker_is_only_for_who_may_reply(client, qa_inspector, make_ticket):
    ticket = make_ticket()
    ScriptTemplate.objects.create(title="问候", scenario="greeting", language="en",
                                  body="{customer_name}，您好！")
    client.force_login(qa_inspector)  # reads every ticket, works none

    response = client.get(reverse("console-scripts", args=[ticket.number]), **HTMX)

    assert response.status_code == 403


def test_the_script_picker_comes_filled_for_the_ticket(client, agent, make_ticket):
    ticket = make_ticket()
    ScriptTemplate.objects.create(title="问候", scenario="greeting", language="en",
                                  body="{customer_name}，您好！")
    client.force_login(agent)

    response = client.get(reverse("console-scripts", args=[ticket.number]), **HTMX)

    page = response.content.decode()
    assert f'data-text="{ticket.customer.name}，您好！"' in page
    assert 'id="id_script_template_used"' in page


def test_the_customer_history_lists_earlier_tickets_but_not_this_one(client, agent,
                                                                     make_ticket):
    ticket = make_ticket()
    earlier = TicketFactory(customer=ticket.customer, subject="上次的问题")
    client.force_login(agent)

    response = client.get(reverse("console-customer-history", args=[ticket.number]), **HTMX)

    page = response.content.decode()
    assert earlier.number in page
    assert f">{ticket.number}<" not in page
