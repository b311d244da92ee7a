"""The LOGGING dictionary: plain text by default, one JSON object a line with LOG_FORMAT=json.

Either way every record passes the request-context filter, so a JSON line carries the
request id and the user id, and a text handler that names them in its format can too.
"""

import copy
from typing import Any

REQUEST_CONTEXT_FILTER = "request_context"
JSON_FIELDS = "%(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s"


def with_request_context(logging: dict[str, Any], *, log_format: str) -> dict[str, Any]:
    """Return LOGGING with the request-context filter on every handler, and JSON if asked."""
    if log_format not in ("text", "json"):
        raise ValueError(f"LOG_FORMAT must be text or json, not {log_format!r}")
    config = copy.deepcopy(logging)
    config.setdefault("filters", {})[REQUEST_CONTEXT_FILTER] = {
        "()": "core.observability.request_id.RequestContextFilter",
    }
    if log_format == "json":
        config.setdefault("formatters", {})["json"] = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": JSON_FIELDS,
            "rename_fields": {"levelname": "level", "name": "logger"},
            # An ISO 8601 time in UTC under "timestamp", whatever TIME_ZONE says.
            "timestamp": True,
        }
    for handler in config.get("handlers", {}).values():
        filters = handler.setdefault("filters", [])
        if REQUEST_CONTEXT_FILTER not in filters:
            filters.append(REQUEST_CONTEXT_FILTER)
        if log_format == "json":
            handler["formatter"] = "json"
    return config
