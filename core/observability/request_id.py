"""One id per request, in the response, in every log line and in the tasks the request queues.

nginx passes its own id in X-Request-ID; a request without one (or with one that is not a
plain token) gets a fresh id here. The id lives in a context variable, so log records and
django-q2 tasks read it without being handed the request.
"""

import logging
import re
import uuid
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.functional import empty

HEADER = "X-Request-ID"
# What an id from outside may look like: nginx's $request_id (32 hex digits), a UUID, or any
# other short token. Anything else (spaces, quotes, control characters, kilobytes) would land
# verbatim in every log line of the request, so it is replaced by an id of our own.
_VALID_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,127}")
logger = logging.getLogger(__name__)

# The key the id travels under in a django-q2 task package.
TASK_KEY = "request_id"

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_user_id: ContextVar[int | None] = ContextVar("user_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def current_user_id() -> int | None:
    return _user_id.get()


def is_valid_request_id(value: str | None) -> bool:
    return value is not None and _VALID_ID.fullmatch(value) is not None


def new_request_id() -> str:
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Give the request its id, answer with it, and forget it when the request is done."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(HEADER)
        request_id = incoming if is_valid_request_id(incoming) else new_request_id()
        request.request_id = request_id  # type: ignore[attr-defined]
        id_token = _request_id.set(request_id)
        user_token = _user_id.set(None)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(id_token)
            _user_id.reset(user_token)
        response[HEADER] = request_id
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        # By now the authentication middleware has put the user on the request. Pages that need
        # no log-in (health probes) are left alone: reading the user may cost a session query.
        if getattr(view_func, "login_required", True):
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                _user_id.set(user.pk)
        return


class RequestContextFilter(logging.Filter):
    """Put the request id and the user id on every log record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            # Django logs a 4xx/5xx answer ("Not Found: /x") after the middleware is done,
            # when the id is out of context; such records carry the request itself.
            request = getattr(record, "request", None)
            record.request_id = _request_id.get() or getattr(request, "request_id", None)
        if not hasattr(record, "user_id"):
            record.user_id = _user_id.get() or _known_user_id(getattr(record, "request", None))
        return True


def _known_user_id(request: HttpRequest | None) -> int | None:
    """The request's user id if the user was already loaded: a log filter runs no query."""
    user = getattr(request, "__dict__", {}).get("user")
    if user is None or getattr(user, "_wrapped", None) is empty:
        return None
    return user.pk if user.is_authenticated else None


# --- django-q2: the id rides along in the task package ------------------------------------


def stamp_task(sender: Any, task: dict, **kwargs: Any) -> None:
    """pre_enqueue receiver: a task queued during a request carries the request's id."""
    request_id = _request_id.get()
    if request_id is not None:
        task.setdefault(TASK_KEY, request_id)


def restore_in_worker(sender: Any, task: dict, **kwargs: Any) -> None:
    """pre_execute receiver: the worker logs the task under the id of the request that queued it.

    Set for every task (None when the task came from a schedule), so one task's id never
    leaks into the next task of the same worker process.
    """
    request_id = task.get(TASK_KEY)
    _request_id.set(request_id if is_valid_request_id(request_id) else None)
    _user_id.set(None)
    if _request_id.get() is not None:
        # django-q2's own "processing" line comes before this hook; this one ties the
        # worker's run to the request in the logs.
        logger.info("task %s (%s) started for the request that queued it",
                    task.get("name"), task.get("func"))


def forget_in_worker(sender: Any, task: dict, **kwargs: Any) -> None:
    """post_execute_in_worker receiver: the worker's own lines between tasks carry no id."""
    _request_id.set(None)
