"""A step the worker refuses lands somewhere visible, and the people who must act are told.

These call `resolutions.tasks.resolution_execute_task` directly, as django-q2's worker does,
not through the inline on-commit path the other resolution tests use.
"""

from datetime import timedelta
from decimal import Decimal

import pytest

from core.services.accounts import is_system_user
from notifications.models import OutboxMessage
from resolutions import services as resolution_services
from resolutions import tasks
from resolutions.models import Payout, ResolutionState
from resolutions.services import sweeps as resolution_sweeps
from tests.resolutions.money import order_with_items, ready_resolution, refunded, ticket_about
from tickets.services import legal_holds

pytestmark = pytest.mark.django_db
RS = ResolutionState


@pytest.fixture
def refunded_order(make_ticket, agent):
    """An order of 100 already refunded in full by another ticket."""
    order, (item,) = order_with_items("100.00")
    first = ready_resolution(ticket_about(make_ticket, item), refund="100.00")
    resolution_services.resolution_execute(resolution_id=first.pk, actor=agent)
    return order, item


def recipients(template="resolution.execution_refused"):
    return {message.recipient_user.username
            for message in OutboxMessage.objects.filter(template=template)}


def test_a_refund_refused_after_the_goods_came_back_waits_in_manual_review(
    make_ticket, refunded_order, agent, senior_agent, supervisor
):
    order, item = refunded_order
    ticket = ticket_about(make_ticket, item)
    late = ready_resolution(ticket, refund="100.00", kind="return_refund",
                            state=RS.RETURN_RECEIVED)

    outcome = tasks.resolution_execute_task(late.pk)

    late.refresh_from_db()
    assert outcome == late.state == RS.MANUAL_REVIEW
    assert "above what was paid" in late.failure_reason
    entry = late.history.latest()
    assert entry.history_change_reason.startswith("transition:refer_for_review — Refunding")
    assert is_system_user(entry.history_user)  # the system acted, and says so
    assert not Payout.objects.filter(resolution=late).exists()
    assert refunded(order=order) == Decimal("100.00")
    # The assignee, the team's senior agent and the supervisors are told, once each.
    assert recipients() == {agent.username, senior_agent.username, supervisor.username}
    message = OutboxMessage.objects.filter(template="resolution.execution_refused").first()
    assert ticket.number in message.subject
    assert "above what was paid" in message.body
    assert message.ticket == ticket

    # A second delivery of the same job changes nothing and tells nobody again.
    assert tasks.resolution_execute_task(late.pk) == "skipped: manual_review"
    assert OutboxMessage.objects.filter(template="resolution.execution_refused").count() == 3


def test_an_unassigned_ticket_tells_its_team(make_ticket, refunded_order, agent, other_agent,
                                             senior_agent):
    _order, item = refunded_order
    ticket = ticket_about(make_ticket, item, assignee=None)
    late = ready_resolution(ticket, refund="100.00")

    tasks.resolution_execute_task(late.pk)

    assert {agent.username, other_agent.username, senior_agent.username} <= recipients()


def test_a_person_can_settle_a_referred_resolution_once_the_money_is_back(
    make_ticket, refunded_order, agent
):
    _order, item = refunded_order
    late = ready_resolution(ticket_about(make_ticket, item), refund="100.00")
    tasks.resolution_execute_task(late.pk)
    late.refresh_from_db()

    assert "cancel" in resolution_services.resolution_available_transitions(resolution=late, user=agent)
    resolution_services.resolution_cancel(resolution=late, actor=agent, reason="已全额退款，无需再退")
    late.refresh_from_db()
    assert late.state == RS.CANCELLED


def test_a_legal_hold_stops_the_worker_and_tells_the_people_who_must_act(
    make_ticket, agent, risk_officer
):
    _order, (item,) = order_with_items("100.00")
    ticket = ticket_about(make_ticket, item)
    resolution = ready_resolution(ticket, refund="100.00")
    legal_holds.legal_hold_place(ticket=ticket, actor=risk_officer, reason="律师函")

    outcome = tasks.resolution_execute_task(resolution.pk)

    resolution.refresh_from_db()
    assert outcome == "held: approved"
    assert resolution.state == RS.APPROVED  # frozen as it is; nothing was reserved
    assert not Payout.objects.exists()
    assert agent.username in recipients()
    assert "legal hold" in OutboxMessage.objects.filter(recipient_user=agent).get().body


def test_a_failed_payment_whose_retry_no_longer_fits_goes_to_manual_review(
    make_ticket, agent, settings
):
    order, (item,) = order_with_items("100.00")
    failed = ready_resolution(ticket_about(make_ticket, item), refund="100.00")
    settings.SIMULATED_GATEWAY_FAILURES = {order.number}
    resolution_services.resolution_execute(resolution_id=failed.pk, actor=agent)
    settings.SIMULATED_GATEWAY_FAILURES = set()
    other = ready_resolution(ticket_about(make_ticket, item), refund="100.00")
    resolution_services.resolution_execute(resolution_id=other.pk, actor=agent)  # takes the money
    failed.refresh_from_db()

    acted = resolution_sweeps.retry_failed_payments(now=failed.executed_at + timedelta(hours=1))

    failed.refresh_from_db()
    assert acted == 1
    assert failed.state == RS.MANUAL_REVIEW
    assert "above what was paid" in failed.failure_reason
    assert agent.username in recipients()
    assert refunded(order=order) == Decimal("100.00")


def test_an_execution_that_died_after_reserving_is_finished_by_the_sweep(
    make_ticket, agent, monkeypatch
):
    order, (item,) = order_with_items("100.00")
    resolution = ready_resolution(ticket_about(make_ticket, item), refund="100.00")

    class TimesOut:
        def pay(self, request):
            raise TimeoutError("gateway did not answer")

    monkeypatch.setattr("resolutions.services.resolutions.get_gateway", TimesOut)
    with pytest.raises(TimeoutError):
        tasks.resolution_execute_task(resolution.pk)
    resolution.refresh_from_db()
    assert resolution.state == RS.EXECUTING
    assert refunded(order=order) == Decimal("100.00")  # still reserved: nobody else takes it
    monkeypatch.undo()

    started = resolution.executed_at
    assert resolution_sweeps.finish_stalled_executions(now=started + timedelta(minutes=14)) == 0
    assert resolution_sweeps.finish_stalled_executions(now=started + timedelta(minutes=15)) == 1

    resolution.refresh_from_db()
    assert resolution.state == RS.COMPLETED
    assert Payout.objects.get().state == "paid"
    assert refunded(order=order) == Decimal("100.00")


@pytest.mark.django_db(transaction=True)
def test_a_real_django_q_worker_lands_the_refusal_in_manual_review(
    make_ticket, refunded_order, agent, settings
):
    """The job goes through the ORM broker and django-q2's own worker loop, as in production."""
    import queue
    from multiprocessing import Value

    from django_q.brokers import get_broker
    from django_q.models import Task
    from django_q.monitor import save_task
    from django_q.signing import SignedPackage
    from django_q.worker import worker

    settings.TASKS_RUN_INLINE = False
    _order, item = refunded_order
    late = ready_resolution(ticket_about(make_ticket, item), refund="100.00",
                            kind="return_refund", state=RS.AWAITING_RETURN)
    resolution_services.resolution_receive_return(resolution=late, actor=agent, note="仓库已签收")
    late.refresh_from_db()
    assert late.state == RS.RETURN_RECEIVED  # queued, not run: there is no inline shortcut

    broker = get_broker()
    tasks_to_run, results = queue.Queue(), queue.Queue()
    for ack_id, packed in broker.dequeue():
        task = SignedPackage.loads(packed)
        task["ack_id"] = ack_id
        tasks_to_run.put(task)
    tasks_to_run.put("STOP")
    worker(tasks_to_run, results, Value("f", -1))
    done = results.get_nowait()
    save_task(done, broker)

    late.refresh_from_db()
    assert (done["success"], done["result"]) == (True, RS.MANUAL_REVIEW)
    assert Task.objects.get().func == "resolutions.tasks.resolution_execute_task"
    assert late.state == RS.MANUAL_REVIEW
    assert "above what was paid" in late.failure_reason
    assert agent.username in recipients()
