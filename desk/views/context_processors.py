from django.utils.functional import SimpleLazyObject

from desk.selectors.approvals import approvals_waiting_count
from desk.views.navigation import entries_for


def navigation(request) -> dict:
    """Expose the navigation entries the current user may see, and their approvals count."""
    user = getattr(request, "user", None)
    if user is None:
        return {"nav_entries": [], "approvals_waiting": 0}
    # Lazy: one COUNT, and only on pages that show it (the top bar's badge, the home page).
    return {"nav_entries": entries_for(user),
            "approvals_waiting": SimpleLazyObject(lambda: approvals_waiting_count(user))}
