"""Read-your-writes: a user who has just written reads from the primary for a while.

Every web node must know it without asking the database, so the mark travels with the user:
a successful unsafe request (POST, PUT, PATCH, DELETE) sets a signed cookie holding when it was
set, and for READ_YOUR_WRITES_SECONDS after that, the user's requests keep their reporting
reads on the primary. Within one request, a write keeps the reads after it on the primary
(the router notes every write). Nothing is set while no replica is configured.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from core.db import health, scope

COOKIE_NAME = "recent_write"
SALT = "core.db.read-your-writes"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def _window_seconds() -> int:
    return int(settings.READ_YOUR_WRITES_SECONDS)


def wrote_within_window(request: HttpRequest) -> bool:
    """Whether the request carries a valid mark of a write less than the window ago."""
    window = _window_seconds()
    if window <= 0 or COOKIE_NAME not in request.COOKIES:
        return False
    return request.get_signed_cookie(COOKIE_NAME, default=None, salt=SALT,
                                     max_age=window) is not None


class ReadYourWritesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not health.replica_configured():
            return self.get_response(request)
        with scope.tracking_writes(recent=wrote_within_window(request)):
            response = self.get_response(request)
        window = _window_seconds()
        if request.method not in SAFE_METHODS and response.status_code < 400 and window > 0:
            response.set_signed_cookie(
                COOKIE_NAME, "1", salt=SALT, max_age=window, httponly=True, samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE)
        return response
