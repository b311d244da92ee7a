"""Incidents group tickets and message their customers at once."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from core.services.exceptions import Conflict
from notifications.models import OutboxMessage
from supervision.models.incident import Incident, IncidentState
from supervision.services import incidents
from tests.factories import CustomerFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def outage(supervisor, team):
    with_phone = CustomerFactory(phone="13900001111")
    app_only = CustomerFactory(phone="")
    tickets = [TicketFactory(team=team, customer=with_phone),
               TicketFactory(team=team, customer=with_phone),
               TicketFactory(team=team, customer=app_only)]
    return incidents.incident_open(actor=supervisor, title="支付系统故障", kind="outage",
                                   description="11月22日晚支付失败", tickets=tickets)


def test_an_incident_groups_tickets_with_history(outage, supervisor):
    assert outage.tickets.count() == 3
    assert outage.history.earliest().history_user == supervisor


def test_every_affected_customer_gets_the_message_once(outage, supervisor,
                                                        django_capture_on_commit_callbacks):
    broadcast = incidents.incident_notify_customers(
        incident=outage, actor=supervisor, body="支付系统已恢复，受影响订单将自动补偿。")

    messages = OutboxMessage.objects.filter(template="incident.update")
    assert broadcast.recipients == 2
    assert sorted(messages.values_list("channel", flat=True)) == ["app", "sms"]
    assert all("支付系统已恢复" in message.body for message in messages)
    assert all("支付系统故障" in message.subject for message in messages)


def test_an_incident_message_needs_text_and_an_open_incident(outage, supervisor):
    with pytest.raises(ValidationError):
        incidents.incident_notify_customers(incident=outage, actor=supervisor, body=" ")
    incidents.incident_close(incident=outage, actor=supervisor)
    with pytest.raises(Conflict):
        incidents.incident_notify_customers(incident=outage, actor=supervisor, body="x")
    assert not OutboxMessage.objects.filter(template="incident.update").exists()


@pytest.mark.parametrize("role", ["agent", "qa", "risk_legal"])
def test_only_supervisors_manage_incidents(personas, role, outage):
    with pytest.raises(PermissionDenied):
        incidents.incident_open(actor=personas[role], title="x", kind="outage")
    with pytest.raises(PermissionDenied):
        incidents.incident_notify_customers(incident=outage, actor=personas[role], body="x")


def test_the_admin_messages_customers_through_the_service(client, outage, supervisor):
    client.force_login(supervisor)

    page = client.get(reverse("admin:supervision_incident_change", args=[outage.pk]))
    response = client.post(reverse("admin:supervision_incident_notify", args=[outage.pk]),
                           {"body": "我们正在处理，请耐心等待。"})

    assert 'id="incident-broadcast"' in page.content.decode()
    assert response.status_code == 302
    assert OutboxMessage.objects.filter(template="incident.update").count() == 2


def test_the_admin_opens_an_incident_through_the_service(client, supervisor, team):
    ticket = TicketFactory(team=team)
    client.force_login(supervisor)

    client.post(reverse("admin:supervision_incident_add"), {
        "title": "批次质量问题", "kind": "group_complaint", "description": "",
        "tickets": str(ticket.pk), "broadcasts-TOTAL_FORMS": "0",
        "broadcasts-INITIAL_FORMS": "0"})

    incident = Incident.objects.get()
    assert (incident.state, incident.opened_by) == (IncidentState.OPEN, supervisor)
    assert list(incident.tickets.all()) == [ticket]
