"""Presence: who has a ticket open. An upserted row per (ticket, user), fresh for a minute."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from tests.factories import MessageFactory, TicketFactory
from tickets.models import PRESENCE_TTL, MessageKind, TicketViewer
from tickets.selectors import ticket_newer_reply, ticket_viewers
from tickets.services.presence import presence_touch

pytestmark = pytest.mark.django_db


def test_touching_again_moves_the_same_row_on(agent, new_ticket):
    earlier = timezone.now() - timedelta(seconds=30)
    presence_touch(ticket=new_ticket, user=agent, now=earlier)
    presence_touch(ticket=new_ticket, user=agent)

    row = TicketViewer.objects.get(ticket=new_ticket)
    assert row.last_seen > earlier


def test_viewers_are_the_others_who_checked_in_within_a_minute(agent, other_agent,
                                                               senior_agent, new_ticket):
    now = timezone.now()
    presence_touch(ticket=new_ticket, user=agent, now=now)
    presence_touch(ticket=new_ticket, user=other_agent, now=now - timedelta(seconds=20))
    presence_touch(ticket=new_ticket, user=senior_agent,
                   now=now - PRESENCE_TTL - timedelta(seconds=1))

    assert ticket_viewers(ticket=new_ticket, exclude_user=agent, now=now) == [str(other_agent)]


def test_expired_rows_go_when_the_next_viewer_arrives(agent, other_agent, new_ticket):
    now = timezone.now()
    presence_touch(ticket=new_ticket, user=other_agent, now=now - timedelta(minutes=5))
    presence_touch(ticket=new_ticket, user=agent, now=now)

    assert list(TicketViewer.objects.filter(ticket=new_ticket).values_list(
        "user", flat=True)) == [agent.pk]


def test_presence_writes_no_history(agent, new_ticket):
    presence_touch(ticket=new_ticket, user=agent)

    assert not hasattr(TicketViewer, "history")
    assert new_ticket.history.count() == 1  # the creation only


def test_only_people_who_work_tickets_are_shown(qa_inspector, new_ticket):
    with pytest.raises(PermissionDenied):
        presence_touch(ticket=new_ticket, user=qa_inspector)


def test_a_colleagues_reply_or_a_customer_message_is_newer(agent, other_agent, team):
    ticket = TicketFactory(team=team)
    seen = MessageFactory(ticket=ticket)
    MessageFactory(ticket=ticket, kind=MessageKind.NOTE, author=other_agent)
    MessageFactory(ticket=ticket, kind=MessageKind.REPLY, author=agent)
    assert ticket_newer_reply(ticket=ticket, after_id=seen.pk, user=agent) is None

    colleague = MessageFactory(ticket=ticket, kind=MessageKind.REPLY, author=other_agent)
    newer = ticket_newer_reply(ticket=ticket, after_id=seen.pk, user=agent)
    assert (newer.message_id, newer.author) == (colleague.pk, str(other_agent))

    customer = MessageFactory(ticket=ticket, kind=MessageKind.INBOUND)
    newer = ticket_newer_reply(ticket=ticket, after_id=colleague.pk, user=agent)
    assert (newer.message_id, newer.author) == (customer.pk, ticket.customer.name)
