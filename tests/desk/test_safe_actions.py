"""Destructive actions in the workspace are a second step with a reason: cancelling a ticket,
merging it into another as a duplicate, rejecting or withdrawing a resolution."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from policies.models import ApprovalLimit, PolicyRule
from resolutions.models import Resolution, ResolutionState
from tests.factories import OrderItemFactory
from tickets.models import TicketState

# Written against English messages, as the other console tests.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]

HTMX = {"HTTP_HX_REQUEST": "true"}
REFUSAL = "Choose why the ticket is cancelled"


def form_of(page: str, marker: str) -> str:
    """Return the <form> ... </form> whose opening tag carries `marker`."""
    match = re.search(r"<form[^>]*" + re.escape(marker) + r"[^>]*>.*?</form>", page, re.S)
    assert match, marker
    return match.group(0)


def workspace(client, ticket) -> str:
    return client.get(reverse("console-ticket", args=[ticket.number])).content.decode()


def test_cancelling_is_a_second_step_with_no_reason_preselected(client, agent, make_ticket):
    ticket = make_ticket()
    client.force_login(agent)

    page = workspace(client, ticket)
    cancel = form_of(page, 'data-cancel="cancel"')

    assert re.search(r'<details class="confirm-box" data-confirm="cancel">\s*<summary', page)
    assert '<option value="" selected disabled>' in cancel
    assert re.search(r'<select name="reason"[^>]* required', cancel)
    assert not re.search(r'<option value="\w+"[^>]* selected', cancel)
    assert "merged_into" not in cancel  # the duplicate field belongs to the merge step only


def test_the_duplicate_field_appears_only_in_the_merge_step(client, agent, make_ticket):
    ticket = make_ticket()
    client.force_login(agent)

    page = workspace(client, ticket)
    merge = form_of(page, 'data-cancel="duplicate"')

    assert page.count('name="merged_into"') == 1
    assert '<input type="hidden" name="reason" value="duplicate">' in merge
    assert re.search(r'<input name="merged_into"[^>]* required', merge)
    assert 'placeholder="Duplicate of (number)"' in merge


def test_the_duplicate_placeholder_is_chinese(client, agent, make_ticket):
    ticket = make_ticket()
    client.force_login(agent)

    page = client.get(reverse("console-ticket", args=[ticket.number]),
                      HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert 'placeholder="重复于（工单号）"' in form_of(page, 'data-cancel="duplicate"')


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
@pytest.mark.parametrize("data", [
    {"name": "cancel"},
    {"name": "cancel", "reason": ""},
    {"name": "cancel", "reason": "  "},
    {"name": "cancel", "reason": "customer_changed_mind"},
    {"name": "cancel", "reason": "", "merged_into": "T-1"},
], ids=["missing", "empty", "blank", "unknown", "empty-with-duplicate"])
def test_a_cancel_without_a_chosen_reason_is_refused_and_changes_nothing(
    client, agent, make_ticket, data, htmx
):
    ticket = make_ticket()
    versions = ticket.history.count()
    client.force_login(agent)

    response = client.post(reverse("console-transition", args=[ticket.number]), data,
                           **(HTMX if htmx else {}))

    ticket.refresh_from_db()
    assert response.status_code == 400
    assert REFUSAL in response.content.decode()
    assert ticket.state == TicketState.IN_PROGRESS
    assert ticket.cancel_reason == ""
    assert ticket.history.count() == versions


def test_a_cancel_with_a_chosen_reason_cancels(client, agent, make_ticket):
    ticket = make_ticket()
    client.force_login(agent)

    response = client.post(reverse("console-transition", args=[ticket.number]),
                           {"name": "cancel", "reason": "withdrawn", "comment": "客户来电撤回"},
                           **HTMX)

    ticket.refresh_from_db()
    assert response.status_code == 200
    assert ticket.state == TicketState.CANCELLED
    assert ticket.cancel_reason == "withdrawn"
    assert ticket.history.first().history_user == agent


def test_who_may_not_work_the_ticket_gets_403_not_the_reason_check(client, other_agent,
                                                                   make_ticket):
    ticket = make_ticket()  # assigned to `agent`
    client.force_login(other_agent)

    response = client.post(reverse("console-transition", args=[ticket.number]),
                           {"name": "cancel"}, **HTMX)

    ticket.refresh_from_db()
    assert response.status_code == 403
    assert ticket.state == TicketState.IN_PROGRESS


@pytest.fixture
def accepted_refund(client, agent, make_ticket):
    """A refund the agent proposed and the customer accepted: it waits for a supervisor."""
    PolicyRule.objects.all().delete()
    PolicyRule.objects.create(
        name="Refund needs a supervisor", kind="refund_only", priority=10,
        reasons=["quality_defect"], verdict="needs_approval", approval_role="supervisor",
        refund_rule="item_remaining", source="test")
    ApprovalLimit.objects.update_or_create(role="supervisor", defaults={"max_amount": None})
    item = OrderItemFactory(paid_amount=Decimal("199.00"))
    ticket = make_ticket(customer=item.order.customer, order=item.order, order_item=item,
                         request_reason="quality_defect", item_condition="used",
                         requested_resolution="refund_only")
    client.force_login(agent)
    client.post(reverse("console-propose", args=[ticket.number]), {"kind": "refund_only"}, **HTMX)
    resolution = Resolution.objects.get(ticket=ticket)
    client.post(reverse("console-resolution-action", args=[ticket.number, resolution.pk]),
                {"name": "accept"}, **HTMX)
    resolution.refresh_from_db()
    assert resolution.state == ResolutionState.ACCEPTED
    return resolution


def test_rejecting_a_resolution_is_a_second_step_that_asks_why(client, supervisor,
                                                               accepted_refund):
    client.force_login(supervisor)

    page = workspace(client, accepted_refund.ticket)
    reject = form_of(page, 'data-action="reject"')

    assert re.search(r'<details class="confirm-box" data-confirm="reject">\s*<summary', page)
    assert re.search(r'<label[^>]*for="reason-reject-\d+">Why is it rejected\?</label>', reject)
    assert re.search(r'<input name="reason"[^>]* required', reject)
    approve = form_of(page, 'data-action="approve"')
    assert 'name="reason"' not in approve  # no unlabelled reason box beside 审批通过


@pytest.mark.parametrize("reason", ["", "   "], ids=["empty", "blank"])
def test_a_reject_without_a_reason_changes_nothing(client, supervisor, accepted_refund, reason):
    client.force_login(supervisor)
    versions = accepted_refund.history.count()

    response = client.post(
        reverse("console-resolution-action",
                args=[accepted_refund.ticket.number, accepted_refund.pk]),
        {"name": "reject", "reason": reason}, **HTMX)

    accepted_refund.refresh_from_db()
    assert "Give a reason; it goes into the audit trail." in response.content.decode()
    assert accepted_refund.state == ResolutionState.ACCEPTED
    assert accepted_refund.history.count() == versions


def test_a_reject_with_a_reason_is_recorded_with_who_and_why(client, supervisor,
                                                             accepted_refund):
    client.force_login(supervisor)

    client.post(reverse("console-resolution-action",
                        args=[accepted_refund.ticket.number, accepted_refund.pk]),
                {"name": "reject", "reason": "凭证不足"}, **HTMX)

    accepted_refund.refresh_from_db()
    latest = accepted_refund.history.first()
    assert accepted_refund.state == ResolutionState.REJECTED
    assert latest.history_user == supervisor
    assert "凭证不足" in latest.history_change_reason
