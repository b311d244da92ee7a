"""Template context for every console page."""

from django.utils.functional import SimpleLazyObject

from notifications.services import delivery as notifications


def unread_notifications(request) -> dict:
    """Expose the signed-in user's unread notification count (one COUNT, only when shown)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_notifications": 0}
    # Lazy: pages that never show the badge (admin, htmx partials) pay no query for it.
    return {
        "unread_notifications": SimpleLazyObject(
            lambda: notifications.notification_count_unread(user=user)
        )
    }
