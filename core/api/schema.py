"""The OpenAPI schema's error answers, documented once for every operation.

core.api.handlers.exception_handler and the middleware in core.views.middleware answer
every error with a JSON body; this drf-spectacular postprocessing hook writes those answers
into each operation where they can occur, so no view has to list them. CanReadSchema guards the schema and the docs.
"""

import re

from django.conf import settings
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import get_lib_doc_excludes
from rest_framework import serializers
from rest_framework.permissions import BasePermission

from core.api.parsers import MAX_INTEGER
from core.api.serializers import SharedFieldsMixin

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
    "404": ("No such object, or not one you may read: in the path, or named by a field of the "
            "body (then listed under that field).", "NotFoundErrors", {}),
    "409": ("The object's state does not allow this now; `code` says why.", "Error", {}),
    "415": ("The body is not JSON (or, for an upload, not multipart/form-data).", "Error", {}),
    "429": ("Too many requests; wait as Retry-After says.", "Error", RETRY_AFTER),
    "503": ("The database is unavailable for a moment. The request may have committed: "
            "retry (with the same Idempotency-Key for an intake).", "Error", RETRY_AFTER),
}


def error_statuses(method: str, path: str, operation: dict | None = None) -> list[str]:
    """The error statuses an operation can answer.

    Every request can be refused as malformed (400, by middleware), forbidden (403: DRF
    answers 403, not 401, to a caller without credentials), throttled (429) or meet a lost
    database (503). Routes naming an object in the path, writes naming one in the body, and
    pages named by a cursor can answer 404; writes can meet a
    service's Conflict (409); a body of another type than the operation takes answers 415.
    """
    statuses = ["400", "403", "429", "503"]
    takes_cursor = any(parameter.get("name") == "cursor"
                       for parameter in (operation or {}).get("parameters", []))
    if "{" in path or method in WRITE_METHODS or takes_cursor:
        statuses.append("404")
    if method in WRITE_METHODS:
        statuses.extend(["409", "415"])
    return statuses


def add_error_responses(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: add the error answers and their bodies."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR_SCHEMA)
    schemas.setdefault("FieldErrors", FIELD_ERRORS_SCHEMA)
    schemas.setdefault("NotFoundErrors", {"anyOf": [{"$ref": "#/components/schemas/Error"},
                                                    {"$ref": "#/components/schemas/FieldErrors"}]})
    for path, path_item in result.get("paths", {}).items():
        for method, operation in path_item.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for code in error_statuses(method, path, operation):
                _document(responses, code)
            # A view may declare an error of its own (a 404 for an object named in the query);
            # give it the same body.
            for code in list(responses):
                if code in ERROR_RESPONSES and "content" not in responses[code]:
                    _document(responses, code, replace=True)
            operation["responses"] = dict(sorted(responses.items()))
            _close_request_body(operation.get("requestBody"), schemas)
    _constrain_text(result)
    return result


def _close_request_body(body: dict | None, schemas: dict) -> None:
    """JSON request bodies take only their declared fields (core.api.serializers refuses
    others), and a body with required fields is itself required."""
    if not body:
        return
    for media_type, media in body.get("content", {}).items():
        schema = media.get("schema", {})
        if media_type == "application/json":
            _close_object(schema, schemas, seen=set())
        target = _resolve(schema, schemas)
        if target.get("required") or "oneOf" in target:
            body["required"] = True


def _resolve(schema: dict, schemas: dict) -> dict:
    ref = schema.get("$ref", "")
    return schemas.get(ref.rsplit("/", 1)[-1], {}) if ref else schema


def _close_object(schema: dict, schemas: dict, seen: set) -> None:
    ref = schema.get("$ref")
    if ref:
        if ref in seen:
            return
        seen.add(ref)
    target = _resolve(schema, schemas)
    for variant in target.get("oneOf", []):
        _close_object(variant, schemas, seen)
    if target.get("type") == "object" and "properties" in target:
        target["additionalProperties"] = False
        for prop in target["properties"].values():
            _close_object(prop, schemas, seen)
            _close_object(prop.get("items", {}), schemas, seen)


# No text anywhere in the API may hold a NUL byte: the middleware and the JSON parser refuse it
# (400) because the database cannot store it.
NO_NUL = "^[^\\x00]*$"
# Text that must hold more than spaces (and no NUL byte).
NON_BLANK_TEXT = "^[^\\x00]*\\S[^\\x00]*$"
# DRF's DecimalField pattern allows "" and "-." ; the field refuses both. One digit at least.
_DECIMAL_PATTERN = re.compile(r"^\^(-\?)?\\d\{0,(\d+)\}(?:\(\?:\\\.\\d\{0,(\d+)\}\)\?)?\$$")


def _constrain_text(node) -> None:
    """Say in every schema what the API refuses: NUL bytes, decimals without digits, and
    integers beyond 64 bits."""
    if isinstance(node, list):
        for item in node:
            _constrain_text(item)
        return
    if not isinstance(node, dict):
        return
    if node.get("type") == "integer" and "enum" not in node:
        # Nothing larger than the database's biggest integer column is taken (core.api.parsers).
        node.setdefault("maximum", MAX_INTEGER)
        node.setdefault("minimum", -MAX_INTEGER)
    if node.get("type") == "string" and "enum" not in node:
        if node.get("format") == "decimal" and "pattern" in node:
            node["pattern"] = _decimal_pattern(node["pattern"], blank=node.get("nullable", False))
        elif "format" not in node and "pattern" not in node:
            # A field refusing blanks trims spaces first (DRF): it needs more than spaces.
            node["pattern"] = NON_BLANK_TEXT if node.get("minLength", 0) >= 1 else NO_NUL
    for value in node.values():
        _constrain_text(value)


def _decimal_pattern(pattern: str, *, blank: bool) -> str:
    """The amount DRF reads; a nullable DecimalField also reads blank text (as null)."""
    match = _DECIMAL_PATTERN.fullmatch(pattern)
    if match is None:
        return pattern
    sign, whole, places = match.group(1) or "", match.group(2), match.group(3)
    if places is None:
        number = f"{sign}\\d{{1,{whole}}}"
    else:
        number = f"{sign}(?:\\d{{1,{whole}}}(?:\\.\\d{{0,{places}}})?|\\.\\d{{1,{places}}})"
    return f"^(?:\\s*|{number})$" if blank else f"^{number}$"


# A whole number given in the query string (read with str.isdecimal: no sign).
WHOLE_NUMBER = {"type": "integer", "minimum": 0, "maximum": MAX_INTEGER}


def request_variants(properties: dict, variants: list[tuple[dict, list[str]]]) -> dict:
    """A JSON body whose required fields depend on a value in it (a transition's name).

    Each variant repeats every property (overridden where the variant narrows one) and names
    its own required ones; the narrowed values keep the variants apart, as oneOf needs.
    """
    return {"oneOf": [
        {"type": "object", "properties": {**properties, **overrides}, "required": required}
        for overrides, required in variants
    ]}


class ConsoleAutoSchema(AutoSchema):
    """drf-spectacular's schema, with what it leaves out of an amount: a DecimalField that
    takes nothing below zero has no minus sign in its pattern (the schema's amounts are text,
    where `minimum` does not apply)."""

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if (isinstance(field, serializers.DecimalField) and field.min_value is not None
                and field.min_value >= 0 and schema.get("pattern", "").startswith("^-?")):
            schema["pattern"] = "^" + schema["pattern"][len("^-?"):]
        return schema


def lib_doc_excludes() -> list[type]:
    """Classes whose docstrings describe plumbing, never an API body (SPECTACULAR_SETTINGS)."""
    return [*get_lib_doc_excludes(), SharedFieldsMixin]


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
