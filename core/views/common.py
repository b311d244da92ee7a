"""What every console action shares: running a service and telling the user how it went."""

from collections.abc import Callable
from typing import TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from core.models.roles import WORKING_ROLES
from core.services.exceptions import Conflict, NotFound

_Result = TypeVar("_Result")


def require_working_role(user) -> None:
    """Refuse users who do not work tickets (QA reads tickets but has no queues)."""
    if not user.has_role(*WORKING_ROLES):
        raise PermissionDenied(_("Only people who work tickets use the agent console."))


def error_texts(error: Exception) -> list[str]:
    """Return the readable messages of a service's ValidationError, Conflict or NotFound."""
    if isinstance(error, Conflict | NotFound):
        return [error.message]
    if isinstance(error, ValidationError):
        return [str(message) for message in error.messages]
    return [str(error)]


def run_service(call: Callable[[], _Result]) -> tuple[_Result | None, list[str]]:
    """Run a service call; return (result, []) or (None, the error messages).

    PermissionDenied is not caught: it becomes the friendly 403 page.
    """
    try:
        return call(), []
    except (ValidationError, Conflict, NotFound) as error:
        return None, error_texts(error)


def forbidden_response(request, message: str = ""):
    """Render the friendly 403 page (as a fragment for htmx)."""
    from django.shortcuts import render

    template = "403_fragment.html" if getattr(request, "htmx", False) else "403.html"
    return render(request, template, {"exception": message}, status=403)
