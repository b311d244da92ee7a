"""What every console action shares: running a service and telling the user how it went."""

import math
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults

from core.api.throttling import NO_VIEW, ScopeRateThrottle
from core.models.roles import WORKING_ROLES
from core.services.exceptions import Conflict, NotFound
from core.views.middleware import is_api_request

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



def rate_limited(scope: str):
    """Limit a console view to the per-user rate of a throttle scope (REST_FRAMEWORK rates).

    The console's pages are not DRF views, but lookups such as the customer search give
    personal data away one guess at a time, so they take the same cache-backed limit.
    """

    def decorator(view):
        @wraps(view)
        def limited(request, *args, **kwargs):
            throttle = ScopeRateThrottle(scope)
            if throttle.allow_request(request, NO_VIEW):
                return view(request, *args, **kwargs)
            wait = max(1, math.ceil(throttle.wait() or 1))
            response = HttpResponse(
                _("Too many requests: wait %(seconds)s seconds and try again.") % {"seconds": wait},
                status=429, content_type="text/plain; charset=utf-8")
            response["Retry-After"] = str(wait)
            return response

        return limited

    return decorator


def page_not_found(request, exception=None):
    """404: a JSON body under /api/ (as the API's schema documents it), the page elsewhere."""
    if is_api_request(request):
        return JsonResponse({"detail": _("No such address in the API.")}, status=404)
    return defaults.page_not_found(request, exception)
