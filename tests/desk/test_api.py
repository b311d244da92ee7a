"""The REST API: intake, reads, transitions, timeline and audit trail."""

import pytest
from django.urls import reverse

from shop.models import Customer
from tests.factories import MessageFactory, OrderFactory, TicketFactory
from tickets.models import Ticket, TicketState

# Written against English messages, as the ticket tests they came from.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]

S = TicketState


def intake_payload(**overrides):
    payload = {
        "channel": "app",
        "customer": {"external_id": "KS90001", "name": "林晓雨", "phone": "13812345678",
                     "tier": "vip"},
        "subject": "收到的耳机左耳没有声音",
        "description": "左耳没有声音，已重新配对，仍然无效。",
        "category": "quality_malfunction",
        "priority": 1,
        "request_reason": "quality_defect",
        "item_condition": "opened",
        "requested_resolution": "exchange",
    }
    payload.update(overrides)
    return payload


def snapshot(ticket: Ticket) -> tuple:
    ticket.refresh_from_db()
    return (ticket.state, ticket.assignee_id, ticket.priority, ticket.history.count(),
            ticket.messages.count())


# --- intake ------------------------------------------------------------------------------------
def test_intake_creates_the_customer_and_the_ticket(api, agent):
    api.force_authenticate(agent)

    response = api.post(reverse("ticket-list"), intake_payload(), format="json")

    assert response.status_code == 201, response.data
    body = response.data
    assert body["number"].startswith("CS")
    assert body["state"] == S.NEW
    assert body["priority"] == "P1"
    assert body["customer"]["phone"] == "138****5678"
    # Staff write down what the customer said as their own note; only channels relay it.
    assert (body["messages"][0]["kind"], body["messages"][0]["author"]) == ("note", "agent_wang")
    customer = Customer.objects.get(external_id="KS90001")
    assert customer.phone == "13812345678"
    assert customer.tier == "vip"


@pytest.mark.parametrize("claims", [True, False])
def test_intake_records_whether_the_customer_claims_statutory_compensation(api, agent, claims):
    """Issue 16: CRPL art. 55 / Food Safety Law art. 148 rows need the customer's claim."""
    api.force_authenticate(agent)

    response = api.post(reverse("ticket-list"),
                        intake_payload(request_reason="counterfeit", claims_statutory=claims),
                        format="json")

    assert response.status_code == 201, response.data
    assert response.data["claims_statutory"] is claims
    assert Ticket.objects.get(number=response.data["number"]).claims_statutory is claims


def test_intake_links_an_existing_order(api, agent):
    order = OrderFactory(customer__external_id="KS90001")
    api.force_authenticate(agent)

    response = api.post(reverse("ticket-list"), intake_payload(order_number=order.number),
                        format="json")

    assert response.status_code == 201
    assert response.data["order_number"] == order.number


def test_intake_refuses_an_unknown_order_with_a_404_naming_the_field(api, agent):
    api.force_authenticate(agent)

    response = api.post(reverse("ticket-list"), intake_payload(order_number="NOPE"), format="json")

    assert response.status_code == 404
    assert "order_number" in response.data
    assert not Ticket.objects.exists()
    assert not Customer.objects.exists()


def test_intake_refuses_another_customers_order(api, agent):
    order = OrderFactory()
    api.force_authenticate(agent)

    response = api.post(reverse("ticket-list"), intake_payload(order_number=order.number),
                        format="json")

    assert response.status_code == 400
    assert "order" in response.data


@pytest.mark.parametrize(("change", "field"), [
    ({"channel": "carrier_pigeon"}, "channel"),
    ({"subject": ""}, "subject"),
    ({"customer": {"name": "无编号"}}, "customer"),
    ({"priority": 9}, "priority"),
    ({"customer": {"external_id": "X1", "name": "甲", "phone": "not a phone"}}, "customer"),
])
def test_bad_intake_gets_field_errors_and_creates_nothing(api, agent, change, field):
    api.force_authenticate(agent)

    response = api.post(reverse("ticket-list"), intake_payload(**change), format="json")

    assert response.status_code == 400
    assert field in response.data
    assert not Ticket.objects.exists()


def test_a_retried_intake_with_the_same_key_returns_the_same_ticket(api, agent):
    api.force_authenticate(agent)
    url = reverse("ticket-list")

    first = api.post(url, intake_payload(), format="json", HTTP_IDEMPOTENCY_KEY="app-7781")
    again = api.post(url, intake_payload(), format="json", HTTP_IDEMPOTENCY_KEY="app-7781")

    assert first.status_code == 201
    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.data["number"] == first.data["number"]
    assert Ticket.objects.count() == 1


def test_the_same_key_for_a_different_request_is_a_conflict(api, agent):
    api.force_authenticate(agent)
    url = reverse("ticket-list")
    api.post(url, intake_payload(), format="json", HTTP_IDEMPOTENCY_KEY="app-7781")

    response = api.post(url, intake_payload(subject="另一个问题"), format="json",
                        HTTP_IDEMPOTENCY_KEY="app-7781")

    assert response.status_code == 409
    assert Ticket.objects.count() == 1


def test_without_a_key_every_request_opens_a_ticket(api, agent):
    api.force_authenticate(agent)

    api.post(reverse("ticket-list"), intake_payload(), format="json")
    api.post(reverse("ticket-list"), intake_payload(), format="json")

    assert Ticket.objects.count() == 2


def test_qa_may_not_open_tickets(api, qa_inspector):
    api.force_authenticate(qa_inspector)

    response = api.post(reverse("ticket-list"), intake_payload(), format="json")

    assert response.status_code == 403
    assert not Ticket.objects.exists()


def test_anonymous_callers_are_refused(api):
    assert api.get(reverse("ticket-list")).status_code in (401, 403)
    assert api.post(reverse("ticket-list"), intake_payload(), format="json").status_code in (401, 403)


def test_token_authentication_works(api, agent):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=agent)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    assert api.get(reverse("ticket-list")).status_code == 200


# --- reads -------------------------------------------------------------------------------------
def test_list_filters(api, supervisor, make_ticket, agent):
    make_ticket(S.IN_PROGRESS, priority=0)
    make_ticket(S.NEW)
    api.force_authenticate(supervisor)
    url = reverse("ticket-list")

    assert api.get(url, {"state": "new"}).data["count"] == 1
    assert api.get(url, {"priority": "P0"}).data["count"] == 1
    assert api.get(url, {"assignee": agent.username}).data["count"] == 1
    assert api.get(url, {"team": "after_sales"}).data["count"] == 2
    assert api.get(url, {"priority": "urgent"}).status_code == 400


def test_agents_do_not_see_other_teams_tickets(api, agent, make_ticket):
    from tests.factories import TeamFactory

    make_ticket(S.NEW)
    hidden = TicketFactory(team=TeamFactory(code="finance"))
    api.force_authenticate(agent)

    numbers = [row["number"] for row in api.get(reverse("ticket-list")).data["results"]]

    assert hidden.number not in numbers
    assert len(numbers) == 1
    assert api.get(reverse("ticket-detail", args=[hidden.number])).status_code == 404


def test_detail_has_the_timeline(api, agent, make_ticket):
    ticket = make_ticket(S.IN_PROGRESS)
    MessageFactory(ticket=ticket, body="什么时候发货？")
    api.force_authenticate(agent)

    body = api.get(reverse("ticket-detail", args=[ticket.number])).data

    assert [m["body"] for m in body["messages"]] == ["什么时候发货？"]


# --- transitions -------------------------------------------------------------------------------
def test_transitions_endpoint_lists_what_the_caller_may_do(api, agent, make_ticket):
    ticket = make_ticket(S.IN_PROGRESS)
    api.force_authenticate(agent)

    names = [t["name"] for t in api.get(reverse("ticket-transitions", args=[ticket.number])).data]

    assert "resolve" in names
    assert "close" not in names


def test_a_transition_answers_200_with_the_new_state(api, agent, make_ticket):
    ticket = make_ticket(S.IN_PROGRESS)
    api.force_authenticate(agent)

    response = api.post(reverse("ticket-transitions", args=[ticket.number]),
                        {"name": "resolve", "summary": "已补发", "comment": "客户确认"},
                        format="json")

    assert response.status_code == 200
    assert response.data["state"] == S.RESOLVED


def test_a_transition_from_the_wrong_state_is_409_and_changes_nothing(api, agent, make_ticket):
    ticket = make_ticket(S.NEW)
    before = snapshot(ticket)
    api.force_authenticate(agent)

    response = api.post(reverse("ticket-transitions", args=[ticket.number]),
                        {"name": "close"}, format="json")

    assert response.status_code == 409
    assert "not possible" in response.data["detail"]
    assert snapshot(ticket) == before


def test_a_transition_the_caller_may_not_take_is_403_and_changes_nothing(
    api, other_agent, make_ticket
):
    ticket = make_ticket(S.IN_PROGRESS)
    before = snapshot(ticket)
    api.force_authenticate(other_agent)

    response = api.post(reverse("ticket-transitions", args=[ticket.number]),
                        {"name": "resolve", "summary": "随便关掉"}, format="json")

    assert response.status_code == 403
    assert snapshot(ticket) == before


def test_a_transition_with_bad_input_is_400_and_changes_nothing(api, agent, make_ticket):
    ticket = make_ticket(S.IN_PROGRESS)
    before = snapshot(ticket)
    api.force_authenticate(agent)

    response = api.post(reverse("ticket-transitions", args=[ticket.number]),
                        {"name": "resolve"}, format="json")

    assert response.status_code == 400
    assert "summary" in response.data
    assert snapshot(ticket) == before


def test_a_stale_concurrent_update_is_409(api, agent, make_ticket, monkeypatch):
    ticket = make_ticket(S.IN_PROGRESS)
    api.force_authenticate(agent)
    from tickets import selectors

    real_get = selectors.ticket_get_for_user

    def get_then_lose_the_race(**kwargs):
        loaded = real_get(**kwargs)
        # Someone else resolves the ticket between our read and our write.
        Ticket.objects.filter(pk=loaded.pk).update(state=S.PENDING_CUSTOMER)
        return loaded

    monkeypatch.setattr(selectors, "ticket_get_for_user", get_then_lose_the_race)
    response = api.post(reverse("ticket-transitions", args=[ticket.number]),
                        {"name": "resolve", "summary": "已处理"}, format="json")

    assert response.status_code == 409
    ticket.refresh_from_db()
    assert ticket.state == S.PENDING_CUSTOMER
    assert ticket.resolution_summary == ""


# --- timeline and escalation ------------------------------------------------------------------
def test_the_first_reply_stamps_the_first_response_and_starts_work(api, agent, make_ticket):
    ticket = make_ticket(S.ASSIGNED)
    api.force_authenticate(agent)

    response = api.post(reverse("ticket-messages", args=[ticket.number]),
                        {"kind": "reply", "body": "您好，这里是售后客服，请问有什么可以帮您？",
                         "channel": "online_chat"}, format="json")

    assert response.status_code == 201
    ticket.refresh_from_db()
    assert ticket.state == S.IN_PROGRESS
    assert ticket.first_response_at is not None
    reasons = list(ticket.history.values_list("history_change_reason", flat=True))
    assert "transition:respond" in reasons


def test_a_later_reply_keeps_the_first_response_time(api, agent, make_ticket):
    ticket = make_ticket(S.IN_PROGRESS)
    api.force_authenticate(agent)
    url = reverse("ticket-messages", args=[ticket.number])
    api.post(url, {"kind": "reply", "body": "第一条"}, format="json")
    ticket.refresh_from_db()
    first = ticket.first_response_at

    api.post(url, {"kind": "reply", "body": "第二条"}, format="json")

    ticket.refresh_from_db()
    assert ticket.first_response_at == first


def test_an_internal_note_is_not_a_response(api, agent, make_ticket):
    ticket = make_ticket(S.ASSIGNED)
    api.force_authenticate(agent)

    api.post(reverse("ticket-messages", args=[ticket.number]),
             {"kind": "note", "body": "已联系仓库核实"}, format="json")

    ticket.refresh_from_db()
    assert ticket.first_response_at is None
    assert ticket.state == S.ASSIGNED


def test_a_customer_message_resumes_a_ticket_waiting_for_the_customer(api, make_ticket):
    from core.models.roles import Integration
    from core.services.accounts import integration_account

    ticket = make_ticket(S.PENDING_CUSTOMER, paused_at=None)
    api.force_authenticate(integration_account(username="app_gateway",
                                               integration=Integration.CHANNEL))

    api.post(reverse("ticket-messages", args=[ticket.number]),
             {"kind": "inbound", "body": "照片已经上传了"}, format="json")

    ticket.refresh_from_db()
    assert ticket.state == S.IN_PROGRESS


def test_escalation_raises_the_level_moves_the_team_and_is_in_the_history(
    api, agent, make_ticket, escalation_teams
):
    ticket = make_ticket(S.IN_PROGRESS, complaint_level="l1")
    api.force_authenticate(agent)

    response = api.post(reverse("ticket-escalate", args=[ticket.number]),
                        {"level": "l2", "reason": "客户第三次投诉，要求赔偿"}, format="json")

    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.complaint_level == "l2"
    assert ticket.team == escalation_teams["complaints"]
    assert ticket.assignee is None
    assert ticket.priority <= 1
    latest = ticket.history.latest()
    assert latest.history_user == agent
    assert latest.history_change_reason == "escalate:l2 — 客户第三次投诉，要求赔偿"


# Not upward is the ticket's state refusing it (409); an unknown level or no reason, bad input.
@pytest.mark.parametrize(("level", "reason", "status"), [
    ("l1", "again", 409), ("l9", "x", 400), ("l2", "", 400)])
def test_escalation_only_goes_up_and_needs_a_reason(api, agent, make_ticket, level, reason,
                                                     status):
    ticket = make_ticket(S.IN_PROGRESS, complaint_level="l1")
    before = snapshot(ticket)
    api.force_authenticate(agent)

    response = api.post(reverse("ticket-escalate", args=[ticket.number]),
                        {"level": level, "reason": reason}, format="json")

    assert response.status_code == status
    assert snapshot(ticket) == before


def test_priority_changes_are_recorded_with_the_reason(api, agent, make_ticket):
    ticket = make_ticket(S.IN_PROGRESS)
    api.force_authenticate(agent)

    response = api.post(reverse("ticket-priority", args=[ticket.number]),
                        {"priority": 0, "reason": "涉及安全隐患"}, format="json")

    assert response.status_code == 200
    assert response.data["priority"] == "P0"
    assert ticket.history.latest().history_change_reason == "priority:P0 — 涉及安全隐患"


# --- audit trail ---------------------------------------------------------------------------------
def test_history_lists_actor_time_reason_and_changes(api, agent, supervisor, make_ticket):
    ticket = make_ticket(S.IN_PROGRESS)
    api.force_authenticate(agent)
    api.post(reverse("ticket-transitions", args=[ticket.number]),
             {"name": "wait_for_customer", "comment": "请客户补充照片"}, format="json")

    api.force_authenticate(supervisor)
    trail = api.get(reverse("ticket-history", args=[ticket.number])).data

    entry = trail[-1]
    assert entry["actor"] == agent.username
    assert entry["reason"] == "transition:wait_for_customer — 请客户补充照片"
    state_change = next(c for c in entry["changes"] if c["field"] == "state")
    assert (state_change["old"], state_change["new"]) == (S.IN_PROGRESS, S.PENDING_CUSTOMER)


def test_history_is_read_only(api, supervisor, make_ticket):
    ticket = make_ticket()
    api.force_authenticate(supervisor)
    url = reverse("ticket-history", args=[ticket.number])

    assert api.post(url, {}, format="json").status_code == 405
    assert api.delete(url).status_code == 405


def test_schema_and_docs_are_served(api, agent):
    api.force_authenticate(agent)

    assert api.get(reverse("api-schema")).status_code == 200
    docs = api.get(reverse("api-docs"))
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()
