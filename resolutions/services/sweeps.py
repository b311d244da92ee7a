"""Scheduled work on resolutions: payment retries, return parcels, merchant silence.

Like the SLA sweeps, each selects what is due in one indexed query, takes `now`, and does
nothing twice when run twice (a state change or the outbox's dedupe key records it).
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from core.services.exceptions import Conflict
from notifications.services import delivery as notifications
from resolutions.models import Resolution, ResolutionKind, ResolutionState
from resolutions.services import resolutions as resolution_services
from tickets.models import Collaborator, Ticket, TicketState

logger = logging.getLogger(__name__)
RS = ResolutionState

MAX_AUTOMATIC_ATTEMPTS = 3
FIRST_RETRY_AFTER = timedelta(minutes=5)  # then 10, 20 minutes: doubling each time
MERCHANT_SILENCE = timedelta(hours=48)  # [000] the platform steps in after 48 h
# Far longer than a worker may run (Q_CLUSTER timeout): an execution still going after this
# died between reserving its money and recording the gateway's answer.
EXECUTION_STALLED_AFTER = timedelta(minutes=15)


def retry_delay(attempts: int) -> timedelta:
    """Return how long to wait after the `attempts`-th failed attempt."""
    doublings: int = 2 ** max(attempts - 1, 0)  # int ** int is typed Any: it may be a float
    return FIRST_RETRY_AFTER * doublings


def retry_failed_payments(*, now: datetime) -> int:
    """Retry failed executions with back-off; after the last try, hand them to a person."""
    failed = list(Resolution.objects.filter(state=RS.FAILED).select_related("ticket__assignee")
                  .only("id", "attempts", "executed_at", "ticket__number", "ticket__subject",
                        "ticket__assignee", "ticket__id", "state"))
    acted = 0
    for resolution in failed:
        if resolution.attempts >= MAX_AUTOMATIC_ATTEMPTS:
            try:
                resolution_services.resolution_review_automatically(resolution_id=resolution.pk)
            except Conflict:
                continue  # frozen by a legal hold: it waits as it is
            if resolution.ticket.assignee:
                notifications.notify(
                    template="sla.payment_needs_review", channel="internal",
                    ticket=resolution.ticket, user=resolution.ticket.assignee,
                    dedupe_key=f"payment-review:{resolution.pk}",
                )
            acted += 1
        elif resolution.executed_at + retry_delay(resolution.attempts) <= now:
            # As the worker does: a refund that no longer fits goes to manual review and the
            # people who must act are told; a hold or someone acting meanwhile skips it.
            outcome = resolution_services.resolution_execute_for_worker(
                resolution_id=resolution.pk)
            if outcome in RS.values:
                acted += 1
    return acted


def finish_stalled_executions(*, now: datetime) -> int:
    """Finish executions whose run died after reserving, so no reservation stays behind."""
    stalled = Resolution.objects.filter(
        state=RS.EXECUTING, executed_at__lte=now - EXECUTION_STALLED_AFTER,
    ).values_list("id", flat=True)
    finished = 0
    for resolution_id in list(stalled):
        try:
            resolution_services.resolution_finish_stalled(resolution_id=resolution_id)
        except Exception:  # one broken gateway answer must not stop the others
            logger.exception("Could not finish the stalled execution %s.", resolution_id)
            continue
        finished += 1
    return finished


def warn_about_return_parcels(*, now: datetime) -> int:
    """Remind customers who have not sent an approved return; warn when a parcel is late."""
    ship_by = now - timedelta(days=settings.RETURN_SHIP_WITHIN_DAYS)
    arrive_by = now - timedelta(days=settings.RETURN_ARRIVE_WITHIN_DAYS)
    due = (Resolution.objects.filter(state=RS.AWAITING_RETURN)
           .filter(Q(return_tracking_number="", approved_at__lte=ship_by)
                   | Q(return_shipped_at__lte=arrive_by))
           .select_related("ticket__customer", "ticket__assignee"))
    sent = 0
    for resolution in due:
        ticket = resolution.ticket
        if not resolution.return_tracking_number:
            if ticket.customer.phone and notifications.notify(
                template="customer.return_reminder", channel="sms", ticket=ticket,
                customer=ticket.customer, address=ticket.customer.phone,
                dedupe_key=f"return-reminder:{resolution.pk}",
            ):
                sent += 1
        elif ticket.assignee and notifications.notify(
            template="sla.return_overdue", channel="internal", ticket=ticket,
            user=ticket.assignee, dedupe_key=f"return-overdue:{resolution.pk}",
        ):
            sent += 1
    return sent


def step_in_for_silent_merchants(*, now: datetime) -> int:
    """Pay the customer in advance where the merchant has been silent for 48 hours [000].

    The rule table decides (the advance-payout rows need 48 h of silence); a ticket that
    already has an open or completed refund is left alone.
    """
    refunded = (Resolution.objects.filter(kind=ResolutionKind.REFUND_ONLY)
                .exclude(state__in=[RS.REJECTED, RS.CANCELLED]).values("ticket_id"))
    tickets = (Ticket.objects.filter(state=TicketState.PENDING_INTERNAL,
                                     waiting_on=Collaborator.SUPPLIER,
                                     waiting_since__lte=now - MERCHANT_SILENCE)
               .exclude(pk__in=refunded).select_related("assignee", "order", "order_item",
                                                         "customer"))
    paid = 0
    for ticket in tickets:
        try:
            resolution = resolution_services.resolution_propose(
                ticket=ticket, actor=None, kind=ResolutionKind.REFUND_ONLY)
        except (ValidationError, Conflict) as refusal:  # not offered, no order: a person looks
            logger.info("No advance payout for %s: %s", ticket.number, refusal)
            continue
        if resolution.payer != "platform":
            logger.warning("Refund on %s is not an advance payout (payer %s).",
                           ticket.number, resolution.payer)
        if ticket.assignee:
            notifications.notify(template="sla.platform_intervened", channel="internal",
                                 ticket=ticket, user=ticket.assignee,
                                 dedupe_key=f"advance-payout:{ticket.pk}")
        paid += 1
    return paid


SWEEPS = (finish_stalled_executions, retry_failed_payments, warn_about_return_parcels,
          step_in_for_silent_merchants)


def run_all(*, now: datetime | None = None) -> dict[str, int]:
    """Run every resolution sweep once; return how many each acted on."""
    now = now or timezone.now()
    return {sweep.__name__: sweep(now=now) for sweep in SWEEPS}
