"""Every write to the outbox: storing rendered notifications, delivery outcomes, read marks.

`notifications.services.delivery` renders the texts and runs delivery; what it decides is stored
here. The outbox keeps no history (each row is its own record of what was sent).
"""

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core.models.user import User
from core.tasks import enqueue_on_commit
from notifications.models import OutboxChannel, OutboxMessage, OutboxStatus


def _insert_one_by_one(rows: list[OutboxMessage]) -> list[OutboxMessage]:
    """Insert rows each in its own savepoint, leaving out those whose key was taken."""
    inserted = []
    for row in rows:
        row.pk = None
        try:
            # A savepoint, so a duplicate key leaves the caller's transaction usable.
            with transaction.atomic():
                row.save(force_insert=True)
        except IntegrityError:
            if row.dedupe_key and OutboxMessage.objects.filter(
                    dedupe_key=row.dedupe_key).exists():
                continue
            raise
        inserted.append(row)
    return inserted


def outbox_messages_store(*, messages: list[OutboxMessage]) -> list[OutboxMessage]:
    """Store rendered, unsaved messages as pending and deliver them after commit.

    A message whose dedupe_key is already in the outbox (or earlier in the same list) is
    left out: a sweep that runs twice, or two sweeps at once, queue each one once. The rows
    go in with one INSERT and are delivered by one background task, so a sweep with
    thousands of notifications costs a few statements, not a few per notification.
    Return the rows stored.
    """
    keys = [row.dedupe_key for row in messages if row.dedupe_key]
    taken = set(
        OutboxMessage.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True)
    ) if keys else set()
    fresh = []
    for row in messages:
        if row.dedupe_key:
            if row.dedupe_key in taken:
                continue
            taken.add(row.dedupe_key)
        fresh.append(row)
    if not fresh:
        return []
    if connection.features.can_return_rows_from_bulk_insert:
        try:
            with transaction.atomic():
                OutboxMessage.objects.bulk_create(fresh)
        except IntegrityError:
            # Another transaction queued one of these keys after the check above.
            fresh = _insert_one_by_one(fresh)
    else:
        fresh = _insert_one_by_one(fresh)
    if fresh:
        enqueue_on_commit("notifications.services.delivery.deliver_many_task", [row.pk for row in fresh])
    return fresh


def outbox_message_record_sent(*, message: OutboxMessage) -> None:
    """Record that the backend sent the message (the caller holds the row's lock)."""
    message.status = OutboxStatus.SENT
    message.sent_at = timezone.now()
    message.save(update_fields=["status", "sent_at"])


def outbox_message_record_failure(*, message: OutboxMessage, error: str,
                                  retry_at: datetime | None) -> None:
    """Count a failed try: try again at `retry_at`, or give up when it is None.

    The caller holds the row's lock and decides the back-off (notifications.services.delivery).
    """
    message.attempts += 1
    message.last_error = error[:2000]
    if retry_at is None:
        message.status = OutboxStatus.FAILED
    else:
        message.next_attempt_at = retry_at
    message.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])


def notification_mark_read(*, actor: User, notification: OutboxMessage) -> OutboxMessage:
    """Mark one of the actor's console notifications read (once; later calls keep the time)."""
    if notification.recipient_user_id != actor.pk:
        raise PermissionDenied
    if notification.read_at is None:
        notification.read_at = timezone.now()
        # No history to keep (see the module docstring), so a plain update is fine.
        OutboxMessage.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def notification_mark_all_read(*, actor: User) -> int:
    """Mark every unread console notification of the actor read; return how many."""
    return (OutboxMessage.objects.filter(recipient_user=actor, channel=OutboxChannel.INTERNAL)
            .exclude(status=OutboxStatus.CANCELLED)
            .filter(read_at__isnull=True).update(read_at=timezone.now()))
