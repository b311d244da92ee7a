"""Strict headers: a Content-Security-Policy without inline scripts, Permissions-Policy, and
no caching of pages or API answers that carry customer data."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

TEMPLATE_FOLDERS = [settings.BASE_DIR / "templates",
                    *sorted(settings.BASE_DIR.glob("*/templates"))]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>")
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.IGNORECASE)


def _directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    parts = (part.strip().split() for part in policy.split(";") if part.strip())
    return {words[0]: words[1:] for words in parts}


def test_pages_send_a_policy_without_inline_scripts_or_styles(client, agent):
    client.force_login(agent)

    response = client.get(reverse("home"))
    directives = _directives(response)

    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]


def test_the_log_in_page_and_the_api_send_the_policy_too(client, api, agent):
    assert "Content-Security-Policy" in client.get(reverse("login"))
    api.force_authenticate(agent)
    assert "Content-Security-Policy" in api.get("/api/v1/tickets/")


def test_only_the_api_docs_allow_inline_styles_and_never_inline_scripts(client, supervisor):
    client.force_login(supervisor)

    directives = _directives(client.get(reverse("api-docs")))

    assert "'unsafe-inline'" in directives["style-src"]
    assert directives["script-src"] == ["'self'"]


def test_the_header_built_once_is_the_one_django_csp_builds(client, agent):
    from csp.utils import build_policy

    client.force_login(agent)

    assert client.get(reverse("home"))["Content-Security-Policy"] == build_policy()


def test_a_changed_policy_is_sent_at_once(client, agent, settings):
    from csp.utils import build_policy

    client.force_login(agent)
    client.get(reverse("home"))  # the header of the settings before
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'self'"],
                                                      "img-src": ["'self'", "https://img.example"]}}

    policy = client.get(reverse("home"))["Content-Security-Policy"]

    assert policy == build_policy()
    assert "img-src 'self' https://img.example" in policy
    assert "script-src" not in policy


def test_a_report_only_policy_is_sent_beside_the_enforced_one(client, agent, settings):
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    client.force_login(agent)

    response = client.get(reverse("home"))

    assert response["Content-Security-Policy-Report-Only"] == "default-src 'none'"
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_templates_hold_no_inline_script_event_handler_or_style_attribute():
    offenders = []
    for folder in TEMPLATE_FOLDERS:
        for template in folder.rglob("*.html"):
            text = template.read_text(encoding="utf-8")
            for pattern in (INLINE_SCRIPT, EVENT_HANDLER, STYLE_ATTRIBUTE):
                if pattern.search(text):
                    offenders.append(f"{Path(template).relative_to(settings.BASE_DIR)}: {pattern.pattern}")

    assert offenders == []


def test_permissions_policy_switches_off_unused_browser_features(client, agent):
    client.force_login(agent)

    policy = client.get(reverse("home"))["Permissions-Policy"]

    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in policy


@pytest.mark.parametrize("url", ["/", "/tickets/new/customers/?q=138", "/knowledge/"])
def test_console_pages_are_not_stored_by_browsers_or_proxies(client, agent, url):
    client.force_login(agent)

    assert "no-store" in client.get(url)["Cache-Control"]


def test_api_answers_are_not_stored(api, agent):
    api.force_authenticate(agent)

    assert "no-store" in api.get("/api/v1/tickets/")["Cache-Control"]


def test_the_log_in_page_is_not_stored(client):
    assert "no-store" in client.get(reverse("login"))["Cache-Control"]


def test_static_files_keep_their_caching(client):
    response = client.get("/static/js/base.js")

    assert "no-store" not in response.get("Cache-Control", "")
