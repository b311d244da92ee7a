from desk.views.navigation import entries_for


def navigation(request) -> dict:
    """Expose the navigation entries the current user may see."""
    user = getattr(request, "user", None)
    if user is None:
        return {"nav_entries": []}
    return {"nav_entries": entries_for(user)}
