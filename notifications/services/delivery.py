"""Outgoing notifications: render from a template, store in the outbox, deliver after commit.

`notify(...)` renders the text once and stores it as a pending OutboxMessage, so what QA
reads is exactly what went out. Delivery runs after the transaction commits, through the
backend configured for the channel (settings.OUTBOX_BACKENDS), and is retried with
back-off by the `deliver_pending` sweep. Internal notifications are read in the console.

Delivery is at least once: a worker that dies after the provider accepted a message but
before the row is marked sent sends it again on the next sweep. Every backend therefore
hands the provider the row's idempotency key (its dedupe key, or "outbox:<id>"), the same on
every attempt, so a provider that honours it sends the message once.
"""

import hashlib
import logging
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.http import Http404
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from core.db.compiled import CompiledQuery
from core.models.user import User
from notifications.models import EXTERNAL_CHANNELS, OutboxChannel, OutboxMessage, OutboxStatus
from notifications.services import outbox
from shop.models import Customer, mask_phone
from tickets.models import Ticket

logger = logging.getLogger("cs_console.outbox")

MAX_ATTEMPTS = 5

DEFAULT_BACKENDS = {
    OutboxChannel.SMS: "notifications.services.delivery.LoggingBackend",
    OutboxChannel.APP: "notifications.services.delivery.LoggingBackend",
    OutboxChannel.EMAIL: "notifications.services.delivery.EmailBackend",
    OutboxChannel.INTERNAL: "notifications.services.delivery.InternalBackend",
}

CUSTOMER_CHANNELS = frozenset(EXTERNAL_CHANNELS)
STAFF_CHANNELS = frozenset({OutboxChannel.INTERNAL})


# --- Templates ---------------------------------------------------------------------------
@dataclass(frozen=True)
class NotificationTemplate:
    subject: str | Promise
    body: str | Promise
    channels: frozenset[str]


TEMPLATES: dict[str, NotificationTemplate] = {
    # To the assignee (or the team), major complaints to the supervisors too: no first
    # response by the SLA's first-response time (2 hours for standard work).
    "sla.first_response_reminder": NotificationTemplate(
        subject=_("Ticket %(number)s is past its first-response time"),
        body=_("Ticket %(number)s (%(subject)s) has not been answered in time. "
               "Please answer the customer now."),
        channels=STAFF_CHANNELS,
    ),
    # To the assignee: the SLA's resolution time has passed.
    "sla.resolution_overdue": NotificationTemplate(
        subject=_("Ticket %(number)s is past its resolution time"),
        body=_("Ticket %(number)s (%(subject)s) is past its resolution time. Resolve it, "
               "or tell the customer when it will be."),
        channels=STAFF_CHANNELS,
    ),
    # To the customer: an approved return whose parcel has not been sent in time.
    "customer.return_reminder": NotificationTemplate(
        subject=_("Please send back the goods for ticket %(number)s"),
        body=_("Your return for ticket %(number)s was approved; please send the goods back "
               "and tell us the tracking number, so we can refund you."),
        channels=CUSTOMER_CHANNELS,
    ),
    # To the assignee: a return parcel that has not reached the warehouse in time.
    "sla.return_overdue": NotificationTemplate(
        subject=_("Return parcel for ticket %(number)s not received in time"),
        body=_("The return parcel for ticket %(number)s (%(subject)s) has not been signed for "
               "by the warehouse in time. Check the tracking with the carrier."),
        channels=STAFF_CHANNELS,
    ),
    # To the assignee: the platform paid the customer because the merchant stayed silent.
    "sla.platform_intervened": NotificationTemplate(
        subject=_("Advance payout on ticket %(number)s"),
        body=_("The merchant did not answer ticket %(number)s (%(subject)s) within 48 hours; "
               "the platform has refunded the customer in advance."),
        channels=STAFF_CHANNELS,
    ),
    # To the assignee: a payment failed repeatedly and needs a person.
    "sla.payment_needs_review": NotificationTemplate(
        subject=_("Payment for ticket %(number)s failed and needs you"),
        body=_("Paying out the resolution of ticket %(number)s (%(subject)s) failed several "
               "times. Contact the customer for another way to pay."),
        channels=STAFF_CHANNELS,
    ),
    # To the assignee (or the team), the team's senior agents and the supervisors: the worker
    # refused to execute a resolution (it would refund more than was paid, a legal hold).
    "resolution.execution_refused": NotificationTemplate(
        subject=_("Resolution on ticket %(number)s was not executed"),
        body=_("The resolution of ticket %(number)s (%(subject)s) was not executed: "
               "%(reason)s Decide how to go on."),
        channels=STAFF_CHANNELS,
    ),
    # To everyone who may approve it (role, limit, not the proposer): a resolution the
    # customer agreed to waits for approval. The console links it to the ticket.
    "resolution.awaiting_approval": NotificationTemplate(
        subject=_("Ticket %(number)s: a resolution waits for your approval"),
        body=_("%(kind)s of ¥%(amount)s on ticket %(number)s (%(subject)s), proposed by "
               "%(proposer)s, waits for your approval."),
        channels=STAFF_CHANNELS,
    ),
    # To the supervisors and risk/legal who may approve it: a policy change set was
    # submitted. The console links it to the change set's approval page (context "link").
    "policies.change_set_submitted": NotificationTemplate(
        subject=_("Policy change set #%(change_set)s waits for your approval"),
        body=_("%(author)s submitted the policy change set #%(change_set)s “%(title)s” "
               "(%(items)s changes) for approval."),
        channels=STAFF_CHANNELS,
    ),
    # To the supervisors, once a day per team: routing sent a ticket to a team nobody is
    # available in, so it went to the default team instead.
    "routing.team_unstaffed": NotificationTemplate(
        subject=_("Nobody is available in %(team)s"),
        body=_("Routing sent a new ticket to %(team)s, where nobody is available to take it, "
               "so it went to %(fallback)s instead. Add an agent to %(team)s, or change the "
               "routing rules that name it."),
        channels=STAFF_CHANNELS,
    ),
    # To the supervisors, once a day: not even the default team has anybody available.
    "routing.default_team_unstaffed": NotificationTemplate(
        subject=_("Nobody is available in %(team)s"),
        body=_("New tickets are waiting in %(team)s, the team routing falls back to, and "
               "nobody there is available to take them. Assign them, or add an agent to "
               "the team."),
        channels=STAFF_CHANNELS,
    ),
    # To the customer, every 8 hours while the ticket is open.
    "customer.progress_update": NotificationTemplate(
        subject=_("Progress on your ticket %(number)s"),
        body=_("Your ticket %(number)s is being handled. "
               "We will keep you updated until it is closed."),
        channels=CUSTOMER_CHANNELS,
    ),
    # To every customer of a major incident at once (outage, group complaint, recall).
    "incident.update": NotificationTemplate(
        subject=_("%(title)s: news about your ticket %(number)s"),
        body=_("%(message)s (ticket %(number)s)"),
        channels=CUSTOMER_CHANNELS,
    ),
    # To the customer, once the ticket is resolved.
    "survey.invite": NotificationTemplate(
        subject=_("How did we do with ticket %(number)s?"),
        body=_("Your ticket %(number)s has been resolved. "
               "Please take a minute to rate our service: %(link)s"),
        channels=CUSTOMER_CHANNELS,
    ),
}

# Mainland mobile numbers (11 digits, 1[3-9]…) that are not part of a longer number.
_MOBILE_NUMBER = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")


def _mask_phone_numbers(text: str, *, phones: tuple[str, ...] = ()) -> str:
    for phone in phones:
        if phone:
            text = text.replace(phone, mask_phone(phone))
    return _MOBILE_NUMBER.sub(r"\1****\3", text)


def _template(key: str) -> NotificationTemplate:
    try:
        return TEMPLATES[key]
    except KeyError:
        raise ValueError(f"Unknown notification template {key!r}.") from None


def render(*, template: str, context: Mapping[str, Any],
           phones: tuple[str, ...] = ()) -> tuple[str, str]:
    """Return the subject and body of a template rendered with context, phones masked.

    Texts are rendered in the site's language (settings.LANGUAGE_CODE), whatever the
    language of the request that caused them: customers get one language, not the agent's.
    """
    spec = _template(template)
    with translation.override(settings.LANGUAGE_CODE):
        try:
            subject = str(spec.subject) % context
            body = str(spec.body) % context
        except KeyError as exc:
            raise ValueError(
                f"Notification template {template!r} needs the placeholder {exc.args[0]!r}."
            ) from None
    # Nothing rendered may carry a full phone number, whatever the context held.
    subject = " ".join(_mask_phone_numbers(subject, phones=phones).split())
    return subject[:200], _mask_phone_numbers(body, phones=phones)


# --- Creating notifications ----------------------------------------------------------------
def _base_context(*, ticket: Ticket | None, customer: Customer | None) -> dict[str, Any]:
    context: dict[str, Any] = {}
    if ticket is not None:
        context.update(number=ticket.number, subject=ticket.subject)
    if customer is not None:
        context["customer_name"] = customer.name
    return context


def _customer_address(*, channel: str, customer: Customer | None, user: User | None) -> str:
    if channel == OutboxChannel.SMS and customer is not None:
        return customer.phone
    if channel == OutboxChannel.APP and customer is not None:
        return customer.external_id
    if channel == OutboxChannel.EMAIL and user is not None:
        return user.email
    return ""


@dataclass(frozen=True)
class Notification:
    """One notification to queue: what `notify` takes, for queueing many at once."""

    template: str
    channel: str
    ticket: Ticket | None = None
    user: User | None = None
    customer: Customer | None = None
    address: str = ""
    context: Mapping[str, Any] | None = None
    dedupe_key: str | None = None


def _outbox_row(notification: Notification, *, now: datetime) -> OutboxMessage:
    """Check a notification and render it into an unsaved outbox row."""
    spec = _template(notification.template)
    channel, user, customer = notification.channel, notification.user, notification.customer
    address = notification.address
    if channel not in spec.channels:
        raise ValueError(
            f"Notification template {notification.template!r} cannot go by '{channel}'.")
    if channel == OutboxChannel.INTERNAL:
        if user is None:
            raise ValueError("An internal notification needs a recipient user.")
    else:
        if customer is None and notification.ticket is not None and user is None:
            customer = notification.ticket.customer
        address = address or _customer_address(channel=channel, customer=customer, user=user)
        if not address:
            raise ValueError(f"No {channel} address for this notification.")

    phones = (customer.phone,) if customer is not None else ()
    # The stored context is shown in the admin too, so its texts are masked like the message.
    full_context = {
        key: _mask_phone_numbers(value, phones=phones) if isinstance(value, str) else value
        for key, value in {**_base_context(ticket=notification.ticket, customer=customer),
                           **(notification.context or {})}.items()
    }
    subject, body = render(template=notification.template, context=full_context, phones=phones)
    return OutboxMessage(
        ticket=notification.ticket, recipient_user=user, recipient_customer=customer,
        address=address, channel=channel, template=notification.template,
        context=full_context, subject=subject, body=body, created_at=now,
        next_attempt_at=now, dedupe_key=notification.dedupe_key or None,
    )


def notify_many(notifications: Iterable[Notification]) -> list[OutboxMessage]:
    """Render notifications, store the new ones as pending and deliver them after commit.

    A notification whose dedupe_key is already in the outbox (or earlier in the same list)
    is left out (see services.outbox.outbox_messages_store). Return the rows stored.
    """
    now = timezone.now()
    rows = [_outbox_row(notification, now=now) for notification in notifications]
    return outbox.outbox_messages_store(messages=rows)


def notify(*, template: str, channel: str, ticket: Ticket | None = None,
           user: User | None = None, customer: Customer | None = None, address: str = "",
           context: Mapping[str, Any] | None = None,
           dedupe_key: str | None = None) -> OutboxMessage | None:
    """Render one notification, store it as pending and deliver it after commit.

    Return None, and store nothing, when a notification with the same dedupe_key exists.
    """
    stored = notify_many([Notification(
        template=template, channel=channel, ticket=ticket, user=user, customer=customer,
        address=address, context=context, dedupe_key=dedupe_key,
    )])
    return stored[0] if stored else None


# --- Delivery ------------------------------------------------------------------------------
class Backend(Protocol):
    def send(self, message: OutboxMessage) -> None:
        """Send the message with message.idempotency_key as the provider's idempotency key.

        Raise to report a failure (it is retried later, with the same key).
        """


class LoggingBackend:
    """Write the message, with its idempotency key, to the "cs_console.outbox" log."""

    def send(self, message: OutboxMessage) -> None:
        logger.info(
            "outbox %s (key %s): %s to %s [%s] %s", message.pk, message.idempotency_key,
            message.channel, message.masked_address, message.template, message.body,
        )


def email_message_id(idempotency_key: str) -> str:
    """Return a Message-ID that is the same for every attempt to send one message."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    # The public host, not the worker's: a retry from another machine keeps the same id.
    domain = urlsplit(settings.PUBLIC_BASE_URL).hostname or "localhost"
    return f"<outbox.{digest}@{domain}>"


class EmailBackend:
    """Send the message with Django's configured e-mail backend.

    The key goes out as an Idempotency-Key header (for e-mail APIs that deduplicate on it)
    and as a stable Message-ID, by which mail servers and clients recognise a repeat.
    """

    def send(self, message: OutboxMessage) -> None:
        key = message.idempotency_key
        EmailMessage(
            message.subject, message.body, None, [message.address],
            headers={"Idempotency-Key": key, "Message-ID": email_message_id(key)},
        ).send(fail_silently=False)


class InternalBackend:
    """Deliver a console notification: the row itself is what the user reads."""

    def send(self, message: OutboxMessage) -> None:
        """Send nothing; the notifications page reads the row."""


def get_backend(channel: str) -> Backend:
    """Return the backend for the channel from settings.OUTBOX_BACKENDS or the defaults.

    The setting names only the channels it changes; the others keep their default backend.
    """
    backends = {**DEFAULT_BACKENDS, **getattr(settings, "OUTBOX_BACKENDS", {})}
    backend: Backend = import_string(backends[channel])()
    return backend


def retry_due_at(*, created_at: datetime, attempts: int) -> datetime:
    """Return when the next try is due after `attempts` failures: 2, 4, 8, 16 minutes."""
    return created_at + timedelta(minutes=2**attempts)


def deliver(message_id: int, *, now: datetime | None = None) -> str:
    """Send one pending message through its channel's backend; return what became of it.

    The row is locked while it is sent, and anything but a due, pending row is skipped, so
    a second delivery of the same row (a retried task, an overlapping sweep) sends nothing.
    """
    with transaction.atomic():
        # SKIP LOCKED: a row another worker is sending right now is that worker's business.
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id).first()
        )
        if message is None or message.status != OutboxStatus.PENDING:
            return "skipped"
        # A retry is never early, even when another sweep picked the row before this one.
        if message.next_attempt_at > (now or timezone.now()):
            return "not_due"
        try:
            # A savepoint, so a backend's failed query cannot break the outcome's save.
            with transaction.atomic():
                get_backend(message.channel).send(message)
        except Exception as exc:  # any backend failure is recorded and retried
            logger.warning("outbox %s: delivery failed", message.pk, exc_info=True)
            attempts = message.attempts + 1
            retry_at = None if attempts >= MAX_ATTEMPTS else retry_due_at(
                created_at=message.created_at, attempts=attempts)
            outbox.outbox_message_record_failure(
                message=message, error=f"{type(exc).__name__}: {exc}", retry_at=retry_at)
            return "failed" if retry_at is None else "retry"
        outbox.outbox_message_record_sent(message=message)
        return "sent"


def deliver_many_task(message_ids: list[int]) -> dict[str, int]:
    """Deliver the messages queued together; return a count per outcome."""
    return dict(Counter(deliver(message_id) for message_id in message_ids))


def deliver_pending(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Deliver the pending messages that are due, oldest first; return a count per outcome."""
    now = now or timezone.now()
    due_ids = list(
        OutboxMessage.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    return dict(Counter(deliver(message_id, now=now) for message_id in due_ids))


# --- The console's notifications (channel "internal") ------------------------------------
def _internal_for(user: User | int) -> QuerySet[OutboxMessage]:
    return OutboxMessage.objects.filter(
        recipient_user=user, channel=OutboxChannel.INTERNAL
    ).exclude(status=OutboxStatus.CANCELLED)


def notification_list_for_user(*, user: User) -> QuerySet[OutboxMessage]:
    """Return the user's console notifications, unread first, then newest first."""
    return (
        _internal_for(user)
        .select_related("ticket")
        .annotate(unread=ExpressionWrapper(Q(read_at__isnull=True), output_field=BooleanField()))
        .order_by("-unread", "-created_at", "-id")
    )


# On every console page (the top bar's badge): compiled once (core.db.compiled). Not prepared:
# its best plan is the partial index of unread messages, which only its values can match.
_UNREAD = CompiledQuery(
    lambda user_id: _internal_for(user_id).filter(read_at__isnull=True).values("pk"), "user_id")


def notification_count_unread(*, user: User) -> int:
    """Return how many of the user's console notifications are unread."""
    return _UNREAD.count(user_id=user.pk)


def notification_get_for_user(*, user: User, pk: int) -> OutboxMessage:
    """Return one of the user's console notifications; raise Http404 for anyone else's."""
    notification = _internal_for(user).filter(pk=pk).first()
    if notification is None:
        raise Http404
    return notification
