"""Errors that services raise and every entry point (pages, API, admin) translates alike.

- django.core.exceptions.ValidationError: the input is wrong (HTTP 400).
- django.core.exceptions.PermissionDenied: the actor may not do this (HTTP 403).
- Conflict: the request is fine but the ticket's current state does not allow it (HTTP 409).
- NotFound: a record the request names (a merge target, ...) does not exist or is out of the
  actor's sight; the two answer alike, so an error never confirms that a hidden one exists
  (HTTP 404).
"""


class Conflict(Exception):
    """The current state refuses the change: wrong state, a failed condition, a stale copy."""

    def __init__(self, message: str, *, code: str = "conflict") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class NotFound(Exception):
    """A record named in the request is missing or out of the actor's sight (the same answer)."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
