"""No endpoint without a row: every API operation and console URL is in the matrix.

The API side is read from two places, the URL resolver and the OpenAPI schema, so an
endpoint cannot slip in through either.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.authority.table import EXCLUDED, ROWS

API_PREFIX = "api/v1/"
HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def _walk(patterns, prefix="", namespace=""):
    """Yield (route, url name, view callback) for every URL pattern, nested ones too."""
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}{pattern.namespace}:"
            yield from _walk(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}{pattern.name}" if pattern.name else None
            yield route, name, pattern.callback


def _api_operations():
    for route, name, callback in _walk(get_resolver().url_patterns):
        if not route.startswith(API_PREFIX):
            continue
        view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        assert view is not None, f"{route} is not a class-based API view"
        for method in HTTP_METHODS:
            if hasattr(view, method):
                yield name, method


def _console_urls():
    for route, name, _callback in _walk(get_resolver().url_patterns):
        if route.startswith(("api/", "admin/")):
            continue
        yield route, name


def _rows(client):
    return {(row.url_name, row.method) for row in ROWS if row.client == client}


def test_every_api_operation_has_a_row():
    missing = sorted(set(_api_operations()) - _rows("api"))

    assert not missing, f"API operations without a row in tests/authority/table.py: {missing}"


def test_every_console_url_has_a_row_or_a_reason_to_have_none():
    covered = {name for name, _method in _rows("console")}
    missing = sorted(f"{route} ({name})" for route, name in _console_urls()
                     if name not in covered and name not in EXCLUDED)

    assert not missing, (
        f"Console URLs neither in tests/authority/table.py nor in its EXCLUDED list: {missing}")


def test_the_exclusions_name_only_urls_that_exist():
    names = {name for _route, name in _console_urls()} | {"api-schema", "api-docs"}

    assert set(EXCLUDED) <= names, f"Stale exclusions: {sorted(set(EXCLUDED) - names)}"


@pytest.mark.django_db
def test_every_operation_of_the_openapi_schema_has_a_row():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    rows = {}
    for row in ROWS:
        if row.client == "api":
            rows.setdefault(row.method, set()).add(row.url_name)
    paths = {name: _as_template(route) for route, name, _callback in _walk(
        get_resolver().url_patterns) if route.startswith(API_PREFIX)}
    covered = {(paths[name], method) for method, names in rows.items() for name in names}
    operations = {(_as_template(path), method) for path, item in schema["paths"].items()
                  for method in item if method in HTTP_METHODS}

    assert operations
    assert not sorted(operations - covered), (
        f"Schema operations without a row: {sorted(operations - covered)}")


def _as_template(path: str) -> str:
    """Spell a route and a schema path alike: api/v1/tickets/<str:number>/ and
    /api/v1/tickets/{number}/ both become /api/v1/tickets/{}/ (the schema renames pk to id)."""
    import re

    return "/" + re.sub(r"<(?:\w+:)?\w+>|\{\w+\}", "{}", path).lstrip("/")
