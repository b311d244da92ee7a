"""No input reaches a server error: NUL bytes, invalid UTF-8, deep or large JSON, absurd numbers
and a lost database get a clear 4xx or 503, once for every page and API route."""

import json
import re

import pytest
from django.contrib.auth.decorators import login_not_required
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver, path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny

from core.api.parsers import MAX_JSON_DEPTH
from desk.api.tickets import LIST_FILTERS

BAD_TEXTS = {"nul": "a%00b", "invalid_utf8": "a%FFb", "absurd_number": "9" * 30}

# The text filters and searches seen answering 500 with a NUL byte, "{n}" a ticket's number.
QUERY_URLS = [
    *[f"/api/v1/tickets/?{name}=BAD" for name in LIST_FILTERS],
    "/api/v1/tickets/?ordering=BAD",
    "/api/v1/tickets/{n}/?x=BAD",
    "/api/v1/tickets/{n}/history/?cursor=BAD",
    "/api/v1/knowledge/search/?q=BAD",
    "/api/v1/knowledge/suggestions/?ticket=BAD",
    "/api/v1/knowledge/scripts/?q=BAD",
    "/tickets/new/customers/?q=BAD",
    "/tickets/{n}/?before=BAD",
    "/knowledge/?q=BAD",
    "/knowledge/suggestions/{n}/?q=BAD",
    "/policies/simulator/?ticket=BAD",
    "/qa/?state=BAD",
    "/survey/token/?x=BAD",
]
PATH_URLS = [
    "/api/v1/tickets/BAD/",
    "/api/v1/tickets/BAD/history/",
    "/api/v1/tickets/BAD/options/",
    "/tickets/BAD/",
    "/knowledge/suggestions/BAD/",
    "/survey/BAD/",
]


def _api_get_routes() -> list[str]:
    """Every route under /api/v1/, its parameters filled with harmless values."""
    routes = []

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
                route = re.sub(r"<int:\w+>", "1", route)
                routes.append("/" + re.sub(r"<(str:)?\w+>", "{n}", route))

    walk(get_resolver().url_patterns, "")
    return sorted(set(routes))


@pytest.fixture
def signed_in(client, supervisor, make_ticket, english_messages):
    client.force_login(supervisor)
    return client, make_ticket().number


@pytest.mark.parametrize("url", QUERY_URLS + [route + "?q=BAD" for route in _api_get_routes()])
@pytest.mark.parametrize("bad", BAD_TEXTS.values(), ids=BAD_TEXTS.keys())
def test_a_bad_query_string_answers_400_with_a_clear_message(signed_in, url, bad):
    client, number = signed_in

    response = client.get(url.replace("{n}", number).replace("BAD", bad))

    assert response.status_code == 400
    assert "query string" in response.content.decode()
    if url.startswith("/api/"):
        assert "query string" in response.json()["detail"]


@pytest.mark.parametrize("url", PATH_URLS)
@pytest.mark.parametrize("bad", BAD_TEXTS.values(), ids=BAD_TEXTS.keys())
def test_a_bad_path_answers_404_with_a_clear_message(signed_in, url, bad):
    client, _number = signed_in

    response = client.get(url.replace("BAD", bad))

    assert response.status_code == 404
    if bad != BAD_TEXTS["invalid_utf8"]:  # Django keeps that as the text "%FF": a name unknown
        assert "No such page" in response.content.decode()


def test_the_anonymous_survey_page_refuses_a_nul_byte(client, db):
    assert client.get("/survey/a%00b/").status_code == 404


def test_a_nul_byte_in_a_console_form_answers_400(signed_in):
    client, number = signed_in

    form = client.post(f"/tickets/{number}/reply/", {"kind": "note", "body": "a\x00b"})
    raw = client.post(f"/tickets/{number}/reply/", "kind=note&body=a%FFb",
                      content_type="application/x-www-form-urlencoded")

    assert form.status_code == raw.status_code == 400
    assert b"form field" in form.content


@pytest.mark.parametrize("header", ["Idempotency-Key", "Cookie"])
def test_a_nul_byte_in_a_header_answers_400(api_signed_in, header):
    api, _number = api_signed_in

    response = api.get("/api/v1/tickets/", headers={header: "sessionid=a\x00b"})

    assert response.status_code == 400
    assert "header" in response.json()["detail"]


@pytest.fixture
def api_signed_in(api, supervisor, make_ticket, english_messages):
    api.force_authenticate(supervisor)
    return api, make_ticket().number


def _post_json(api, url: str, body: str):
    return api.generic("POST", url, body, content_type="application/json")


@pytest.mark.parametrize(("url", "depth"), [
    ("/api/v1/tickets/{n}/messages/", 5_000),
    ("/api/v1/policies/evaluate/", 50_000),
    ("/api/v1/tickets/", MAX_JSON_DEPTH + 1),
])
def test_over_deep_json_answers_400_before_anything_recurses(api_signed_in, url, depth):
    api, number = api_signed_in

    response = _post_json(api, url.replace("{n}", number), "[" * depth + "]" * depth)

    assert response.status_code == 400
    assert "nested more than" in response.json()["detail"]


def test_brackets_inside_strings_do_not_count_as_depth(api_signed_in):
    api, number = api_signed_in
    body = json.dumps({"kind": "note", "body": "[{" * 100 + '\\"' + "]}" * 100})

    response = _post_json(api, f"/api/v1/tickets/{number}/messages/", body)

    assert response.status_code == 201


def test_an_over_large_json_body_answers_400(api_signed_in, settings):
    api, number = api_signed_in
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = _post_json(api, f"/api/v1/tickets/{number}/messages/",
                          json.dumps({"kind": "note", "body": "x" * 2000}))

    assert response.status_code == 400
    assert "too large" in response.json()["detail"]


@pytest.mark.parametrize("body", [
    '{"kind": "note", "body": "a\\u0000b"}',
    '{"kind": "note", "body": "a\\ud800b"}',
    '{"kind": "note", "body": "ok", "a\\u0000": 1}',
    '{"kind": "note", "body": "ok", "n": 100000000000000000000000000000}',
    '{"kind": "note", "body": "ok", "n": 1e400}',
    '{"kind": "note", "body": "ok", "n": NaN}',
    b'{"kind": "note", "body": "a\xffb"}',
], ids=["nul", "lone-surrogate", "nul-key", "huge-int", "infinite-float", "nan", "invalid-utf8"])
def test_json_the_database_cannot_take_answers_400(api_signed_in, body):
    api, number = api_signed_in

    response = _post_json(api, f"/api/v1/tickets/{number}/messages/", body)

    assert response.status_code == 400
    assert response.json()["detail"]


# --- A lost database connection: 503 with Retry-After, on the API and on pages.

@api_view(["GET"])
@permission_classes([AllowAny])
def _api_losing_the_database(request):
    raise OperationalError("terminating connection due to administrator command")


@login_not_required
def _page_losing_the_database(request):
    raise InterfaceError("connection already closed")


@login_not_required
def _page_that_works(request):
    return HttpResponse("ok")


urlpatterns = [
    path("api/v1/lost/", _api_losing_the_database),
    path("lost/", _page_losing_the_database),
    path("", _page_that_works, name="home"),
]


@pytest.mark.parametrize("url", ["/api/v1/lost/", "/lost/"])
def test_a_lost_database_connection_answers_503_with_retry_after(client, settings, url):
    settings.ROOT_URLCONF = __name__
    settings.LANGUAGE_CODE = "en"
    client.raise_request_exception = False

    response = client.get(url)

    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert "try again" in response.content.decode()


@pytest.mark.parametrize("url", [
    "/api/v1/tickets/?priority=P%C2%B2",
    "/api/v1/knowledge/search/?category=%C2%B2",
    "/api/v1/knowledge/search/?limit=%C2%B2",
    "/knowledge/?category=%C2%B2",
    "/tickets/{n}/timeline/?before=%C2%B2",
])
def test_a_digit_python_cannot_read_as_a_number_is_no_server_error(signed_in, url):
    """"²" is a digit to str.isdigit() but no number to int()."""
    client, number = signed_in
    client.raise_request_exception = False

    response = client.get(url.replace("{n}", number))

    assert response.status_code < 500
