"""Customer messages come only from the channels; every message and history row names who."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from rest_framework.test import APIClient

from core.models.roles import Integration, Role
from core.services.accounts import SYSTEM_USERNAME, integration_account, integration_token
from tests.factories import TicketFactory
from tickets import services
from tickets.models import Message, MessageKind, Ticket, TicketState

pytestmark = pytest.mark.django_db

S = TicketState
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def channel_gateway(db):
    return integration_account(username="app_gateway", integration=Integration.CHANNEL)


def _token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {integration_token(user)}")
    return client


def _messages_url(ticket):
    return reverse("ticket-messages", args=[ticket.number])


# --- staff cannot speak for the customer ---------------------------------------------------------
def test_an_agent_cannot_forge_a_customer_message_on_a_colleagues_ticket(
    api, agent, other_agent, make_ticket
):
    ticket = make_ticket(S.PENDING_CUSTOMER, assignee=other_agent, paused_at=None)
    api.force_authenticate(agent)

    response = api.post(_messages_url(ticket), {"kind": "inbound", "body": "customer says ok"},
                        format="json")

    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.state == S.PENDING_CUSTOMER
    assert not ticket.messages.exists()


@pytest.mark.parametrize("role", list(Role))
def test_no_staff_role_records_customer_messages(api, personas, make_ticket, role):
    ticket = make_ticket(S.IN_PROGRESS, assignee=personas[role])
    api.force_authenticate(personas[role])

    response = api.post(_messages_url(ticket), {"kind": "inbound", "body": "好的"}, format="json")

    assert response.status_code == 403
    assert not ticket.messages.exists()


def test_the_console_offers_no_customer_message(client, agent, make_ticket):
    ticket = make_ticket(S.IN_PROGRESS)
    client.force_login(agent)

    page = client.get(reverse("console-ticket", args=[ticket.number])).content.decode()
    client.post(reverse("console-reply", args=[ticket.number]),
                {"kind": "inbound", "body": "客户说可以"}, **HTMX)

    assert 'value="inbound"' not in page
    assert 'value="phone_summary"' in page
    assert not ticket.messages.exists()


# --- the channel integration ---------------------------------------------------------------------
def test_a_channel_integration_records_the_customers_message_under_its_own_name(
    channel_gateway, other_agent, make_ticket
):
    ticket = make_ticket(S.PENDING_CUSTOMER, assignee=other_agent, paused_at=None)

    response = _token_client(channel_gateway).post(
        _messages_url(ticket), {"kind": "inbound", "body": "照片已经上传了"}, format="json")

    assert response.status_code == 201, response.data
    assert response.data["author"] == "app_gateway"
    message = Message.objects.get(pk=response.data["id"])
    assert message.author == channel_gateway
    assert message.history.get().history_user == channel_gateway
    ticket.refresh_from_db()
    assert ticket.state == S.IN_PROGRESS
    assert ticket.history.latest().history_user == channel_gateway


def test_a_channel_integration_opens_tickets_with_the_customers_words(channel_gateway, team):
    response = _token_client(channel_gateway).post(reverse("ticket-list"), {
        "channel": "app", "customer": {"external_id": "KS1", "name": "林晓雨"},
        "subject": "耳机坏了", "description": "左耳没有声音"}, format="json")

    assert response.status_code == 201, response.data
    message = Ticket.objects.get().messages.get()
    assert (message.kind, message.author) == (MessageKind.INBOUND, channel_gateway)


def test_a_channel_integration_does_not_work_tickets(channel_gateway, make_ticket):
    ticket = make_ticket(S.IN_PROGRESS)

    response = _token_client(channel_gateway).post(
        _messages_url(ticket), {"kind": "reply", "body": "您好"}, format="json")

    assert response.status_code == 403
    assert not ticket.messages.exists()


def test_a_channel_integration_passes_on_the_customers_evidence(
    channel_gateway, other_agent, make_ticket
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.tickets.test_attachments import PNG

    ticket = make_ticket(S.IN_PROGRESS, assignee=other_agent)

    response = _token_client(channel_gateway).post(
        reverse("ticket-attachments", args=[ticket.number]),
        {"file": SimpleUploadedFile("破损.png", PNG), "evidence_kind": "photo"},
        format="multipart")

    assert response.status_code == 201, response.data
    assert ticket.attachments.get().uploaded_by == channel_gateway


def test_the_integration_account_command_prints_a_working_token(capsys):
    from django.core.management import call_command

    call_command("create_integration_account", "wechat_gateway", "--kind", "channel")
    key = capsys.readouterr().out.strip()

    user = get_user_model().objects.get(username="wechat_gateway")
    assert user.auth_token.key == key
    assert not user.has_usable_password()
    assert user.has_perm("tickets.record_inbound_message")
    assert user.role_names == []


# --- what the customer said on the phone -----------------------------------------------------------
def test_an_agents_phone_call_summary_names_the_agent_and_resumes_the_ticket(
    api, agent, make_ticket
):
    ticket = make_ticket(S.PENDING_CUSTOMER, paused_at=None)
    api.force_authenticate(agent)

    response = api.post(_messages_url(ticket),
                        {"kind": "phone_summary", "body": "客户来电：同意换货"}, format="json")

    assert response.status_code == 201, response.data
    message = ticket.messages.get()
    assert (message.kind, message.author, message.channel) == ("phone_summary", agent, "phone")
    ticket.refresh_from_db()
    assert ticket.state == S.IN_PROGRESS
    resumed = ticket.history.latest()
    assert resumed.history_user == agent
    assert resumed.history_change_reason == "transition:resume — customer called"


def test_a_phone_call_summary_needs_the_right_to_work_the_ticket(
    api, agent, other_agent, make_ticket
):
    ticket = make_ticket(S.PENDING_CUSTOMER, assignee=other_agent, paused_at=None)
    api.force_authenticate(agent)

    response = api.post(_messages_url(ticket), {"kind": "phone_summary", "body": "来电"},
                        format="json")

    assert response.status_code == 403
    assert not ticket.messages.exists()


def test_the_console_records_a_phone_call_summary(client, agent, make_ticket):
    ticket = make_ticket(S.IN_PROGRESS)
    client.force_login(agent)

    client.post(reverse("console-reply", args=[ticket.number]),
                {"kind": "phone_summary", "body": "客户来电确认地址"}, **HTMX)

    message = ticket.messages.get()
    assert (message.kind, message.author) == ("phone_summary", agent)


def test_staff_intake_records_the_description_as_the_agents_own_words(api, agent, team):
    api.force_authenticate(agent)

    api.post(reverse("ticket-list"), {
        "channel": "phone", "customer": {"external_id": "KS2", "name": "王女士"},
        "subject": "快递没到", "description": "客户说快递三天没动"}, format="json")

    message = Ticket.objects.get().messages.get()
    assert (message.kind, message.author) == (MessageKind.PHONE_SUMMARY, agent)
    assert message.history.get().history_user == agent


def test_the_service_refuses_staff_customer_messages(agent, make_ticket):
    with pytest.raises(PermissionDenied):
        services.message_add(ticket=make_ticket(S.IN_PROGRESS), actor=agent,
                             kind=MessageKind.INBOUND, body="好的")


# --- the system names itself -----------------------------------------------------------------------
def test_what_the_system_does_is_recorded_under_the_system_account(team):
    from django.utils import timezone

    ticket = TicketFactory(team=team, state=S.RESOLVED)

    services.ticket_close_automatically(ticket_id=ticket.pk, at=timezone.now())

    actor = ticket.history.latest().history_user
    assert actor is not None
    assert actor.username == SYSTEM_USERNAME
    assert not actor.is_active
    assert not actor.has_usable_password()


def test_the_audit_tab_shows_the_system_account_as_system(client, supervisor, team):
    from django.utils import timezone

    ticket = TicketFactory(team=team, state=S.RESOLVED)
    services.ticket_close_automatically(ticket_id=ticket.pk, at=timezone.now())
    client.force_login(supervisor)

    response = client.get(reverse("console-audit", args=[ticket.number]), **HTMX)

    closed = [entry for entry in response.context["entries"]
              if entry["reason"].startswith("transition:close")]
    assert [entry["actor_name"] for entry in closed] == ["System"]
    choices = [label for _value, label in response.context["form"].fields["actor"].choices]
    assert "System" in choices
