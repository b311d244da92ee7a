"""Background jobs of notifications (django-q2)."""

from notifications.services import delivery

SCHEDULES = [("Outbox delivery", "notifications.tasks.deliver_pending_task", 1)]


def deliver_pending_task() -> dict:
    """Send what the outbox holds for external channels (scheduled every minute)."""
    return delivery.deliver_pending()
