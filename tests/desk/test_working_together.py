"""Working together in the workspace: who else has the ticket open, and a reply that would
cross a colleague's (or the customer's) newer message is held back until confirmed."""

import pytest
from django.urls import reverse

from tests.factories import MessageFactory
from tickets.models import MessageKind, TicketViewer
from tickets.services.presence import presence_touch

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]
HTMX = {"HTTP_HX_REQUEST": "true"}


def test_the_workspace_polls_presence(client, agent, make_ticket):
    ticket = make_ticket()
    client.force_login(agent)

    page = client.get(reverse("console-ticket", args=[ticket.number])).content.decode()

    assert f'hx-post="{reverse("console-presence", args=[ticket.number])}"' in page
    assert 'hx-trigger="load, every 20s"' in page


def test_presence_names_the_others_and_records_the_caller(client, agent, other_agent,
                                                         make_ticket,
                                                         django_assert_max_num_queries):
    ticket = make_ticket()
    presence_touch(ticket=ticket, user=other_agent)
    client.force_login(agent)
    client.get(reverse("console-queue", args=["mine"]))  # the session and roles are warm

    with django_assert_max_num_queries(12):
        response = client.post(reverse("console-presence", args=[ticket.number]), **HTMX)

    assert response.status_code == 200
    assert [str(name) for name in response.context["viewers"]] == [str(other_agent)]
    assert 'data-testid="viewer"' in response.content.decode()
    assert TicketViewer.objects.filter(ticket=ticket, user=agent).exists()


def test_presence_is_answered_like_the_ticket_itself(client, agent, other_agent, make_ticket):
    from tests.factories import TeamFactory, TicketFactory

    elsewhere = TicketFactory(team=TeamFactory(code="elsewhere"))
    client.force_login(agent)

    assert client.post(reverse("console-presence", args=[elsewhere.number])).status_code == 404
    assert not TicketViewer.objects.exists()


def _reply(client, ticket, *, seen, **more):
    return client.post(reverse("console-reply", args=[ticket.number]),
                       {"kind": "reply", "body": "您好，已为您登记。", "seen": seen, **more}, **HTMX)


def test_a_reply_after_a_colleagues_reply_is_held_back_with_the_text_kept(
        client, agent, other_agent, make_ticket):
    ticket = make_ticket()
    seen = MessageFactory(ticket=ticket)
    colleague = MessageFactory(ticket=ticket, kind=MessageKind.REPLY, author=other_agent,
                               body="我来处理，已补发。")
    client.force_login(agent)

    response = _reply(client, ticket, seen=seen.pk)

    page = response.content.decode()
    assert response.status_code == 200
    assert not ticket.messages.filter(body="您好，已为您登记。").exists()
    assert 'data-testid="newer-reply"' in page
    assert f"{other_agent} replied to the customer at" in page
    assert "您好，已为您登记。</textarea>" in page
    assert "我来处理，已补发。" in page  # now in the timeline above
    assert '<input type="hidden" name="confirm" value="True">' in page
    assert f'<input type="hidden" name="seen" value="{colleague.pk}">' in page
    assert "Send anyway" in page

    _reply(client, ticket, seen=colleague.pk, confirm="True")
    assert ticket.messages.filter(body="您好，已为您登记。", author=agent).exists()


def test_a_customer_message_meanwhile_holds_the_reply_back_too(client, agent, make_ticket):
    ticket = make_ticket()
    seen = MessageFactory(ticket=ticket)
    MessageFactory(ticket=ticket, body="我已经收到了，不用补发了")
    client.force_login(agent)

    page = _reply(client, ticket, seen=seen.pk).content.decode()

    assert f"The customer {ticket.customer.name} wrote at" in page
    assert not ticket.messages.filter(author=agent).exists()


def test_notes_own_replies_and_forms_without_seen_are_not_held_back(
        client, agent, other_agent, make_ticket):
    ticket = make_ticket()
    seen = MessageFactory(ticket=ticket)
    MessageFactory(ticket=ticket, kind=MessageKind.NOTE, author=other_agent)
    MessageFactory(ticket=ticket, kind=MessageKind.REPLY, author=agent, body="第一条")
    client.force_login(agent)

    _reply(client, ticket, seen=seen.pk)
    MessageFactory(ticket=ticket, kind=MessageKind.REPLY, author=other_agent)
    client.post(reverse("console-reply", args=[ticket.number]),
                {"kind": "note", "body": "内部备注", "seen": seen.pk}, **HTMX)
    client.post(reverse("console-reply", args=[ticket.number]),
                {"kind": "reply", "body": "接口调用"}, **HTMX)

    assert set(ticket.messages.filter(author=agent).values_list("body", flat=True)) == {
        "第一条", "您好，已为您登记。", "内部备注", "接口调用"}
