"""The OpenAPI schema's error answers, documented once for every operation.

core.api.handlers.exception_handler and the middleware in core.views.middleware answer
every error with a JSON body; this drf-spectacular postprocessing hook writes those answers
into each operation where they can occur, so no view has to list them. CanReadSchema guards the schema and the docs.
"""

from django.conf import settings
from rest_framework.permissions import BasePermission

WRITE_METHODS = {"post", "put", "patch", "delete"}
HTTP_METHODS = WRITE_METHODS | {"get", "head", "options", "trace"}

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, in the caller's language."},
        "code": {"type": "string", "description": "Machine-readable reason (409 answers)."},
    },
    "required": ["detail"],
}
# DRF's field errors: a list of messages per field (an object for a nested serializer), with
# `non_field_errors` or `detail` for what belongs to no single field.
FIELD_ERRORS_SCHEMA = {
    "type": "object",
    "additionalProperties": {},
    "description": "Messages by field name; `detail` or `non_field_errors` for the request as a whole.",
}
RETRY_AFTER = {
    "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before retrying."},
}

ERROR_RESPONSES = {
    "400": ("Bad input: invalid fields or query parameters, or a malformed request "
            "(a NUL byte, invalid UTF-8, JSON too deep or too large, absurd numbers).",
            "FieldErrors", {}),
    "403": ("Not signed in, or not allowed to do this.", "Error", {}),
    "404": ("No such object, or not one you may read.", "Error", {}),
    "409": ("The object's state does not allow this now; `code` says why.", "Error", {}),
    "429": ("Too many requests; wait as Retry-After says.", "Error", RETRY_AFTER),
    "503": ("The database is unavailable for a moment. The request may have committed: "
            "retry (with the same Idempotency-Key for an intake).", "Error", RETRY_AFTER),
}


def error_statuses(method: str, path: str) -> list[str]:
    """The error statuses an operation can answer.

    Every request can be refused as malformed (400, by middleware), forbidden (403: DRF
    answers 403, not 401, to a caller without credentials), throttled (429) or meet a lost
    database (503). Routes naming an object in the path can answer 404; writes can meet a
    service's Conflict (409).
    """
    statuses = ["400", "403", "429", "503"]
    if "{" in path:
        statuses.append("404")
    if method in WRITE_METHODS:
        statuses.append("409")
    return statuses


def add_error_responses(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: add the error answers and their bodies."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR_SCHEMA)
    schemas.setdefault("FieldErrors", FIELD_ERRORS_SCHEMA)
    for path, path_item in result.get("paths", {}).items():
        for method, operation in path_item.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for code in error_statuses(method, path):
                _document(responses, code)
            # A view may declare an error of its own (a 404 for an object named in the query);
            # give it the same body.
            for code in list(responses):
                if code in ERROR_RESPONSES and "content" not in responses[code]:
                    _document(responses, code, replace=True)
            operation["responses"] = dict(sorted(responses.items()))
    return result


def _document(responses: dict, code: str, *, replace: bool = False) -> None:
    if code in responses and not replace:
        return
    description, component, headers = ERROR_RESPONSES[code]
    answer: dict = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
    }
    if headers:
        answer["headers"] = headers
    responses[code] = answer


class CanReadSchema(BasePermission):
    """The schema and its docs: signed-in callers only, unless API_SCHEMA_PUBLIC opens them.

    Read at each request, so the setting can change without rebuilding the views.
    """

    def has_permission(self, request, view) -> bool:
        if settings.API_SCHEMA_PUBLIC:
            return True
        return bool(request.user and request.user.is_authenticated)
