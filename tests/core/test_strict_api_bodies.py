"""API bodies are what the schema says: JSON of the declared types and fields only; a record a
field names that does not exist is a 404, a state that refuses the change a 409."""

import pytest

from tests.factories import TicketFactory
from tickets.models import TicketState

MESSAGES = "/api/v1/tickets/{n}/messages/"


@pytest.fixture
def signed_in(api, supervisor, make_ticket, english_messages):
    api.force_authenticate(supervisor)
    return api, make_ticket()


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "note", "body": 12}, "body"),  # a number is no text
    ({"kind": 1, "body": "hello"}, "kind"),
    ({"kind": "note", "body": ["hello"]}, "body"),
    ({"kind": "note", "body": True}, "body"),
])
def test_a_value_of_the_wrong_json_type_is_refused(signed_in, body, field):
    api, ticket = signed_in

    response = api.post(MESSAGES.format(n=ticket.number), body, format="json")

    assert response.status_code == 400
    assert "Expected" in str(response.data[field])
    assert not ticket.messages.filter(kind="note").exists()


def test_a_field_the_operation_does_not_take_is_refused(signed_in):
    api, ticket = signed_in

    response = api.post(MESSAGES.format(n=ticket.number),
                        {"kind": "note", "body": "hello", "boddy": "typo"}, format="json")

    assert response.status_code == 400
    assert "boddy" in response.data
    assert not ticket.messages.filter(kind="note").exists()


def test_a_number_where_the_choices_are_numbers_is_taken(signed_in):
    api, ticket = signed_in

    response = api.post(f"/api/v1/tickets/{ticket.number}/priority/",
                        {"priority": 1, "reason": "VIP"}, format="json")
    text = api.post(f"/api/v1/tickets/{ticket.number}/priority/",
                    {"priority": "1", "reason": "VIP"}, format="json")

    assert response.status_code == 200
    assert text.status_code == 400


def test_a_form_body_is_not_json_and_answers_415(signed_in):
    api, ticket = signed_in

    response = api.post(MESSAGES.format(n=ticket.number), {"kind": "note", "body": "hi"},
                        format="multipart")

    assert response.status_code == 415


def test_a_field_naming_a_missing_record_answers_404(signed_in):
    api, ticket = signed_in

    response = api.post(f"/api/v1/tickets/{ticket.number}/transitions/",
                        {"name": "assign", "assignee": "nobody-of-that-name"}, format="json")

    assert response.status_code == 404
    assert "assignee" in response.data


def test_a_closed_ticket_refuses_messages_with_409(signed_in, team):
    api, _ticket = signed_in
    ticket = TicketFactory(team=team, state=TicketState.CLOSED)

    response = api.post(MESSAGES.format(n=ticket.number), {"kind": "note", "body": "late"},
                        format="json")

    assert response.status_code == 409
    assert response.data["code"] == "not_open"


def test_an_unknown_api_address_answers_json_404(signed_in):
    api, _ticket = signed_in

    response = api.get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]


@pytest.mark.parametrize(("value", "status"), [
    ("2165439781234567890", 200),  # a 19-digit marketplace order number is text
    ("0" * 40, 200),  # zero, however written
    ("9223372036854775808", 400),  # one more than a 64-bit integer holds
    ("9" * 30, 400),
])
def test_only_numbers_beyond_64_bits_are_absurd(signed_in, value, status):
    api, _ticket = signed_in

    response = api.get("/api/v1/tickets/", {"customer": value})

    assert response.status_code == status
