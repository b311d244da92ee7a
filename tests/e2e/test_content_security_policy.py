"""The main pages work under the Content-Security-Policy: the browser reports no violation."""

import pytest
from django.urls import reverse

from tests.e2e.test_login_and_home import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Each document records the violations the browser reports, before any of the page's scripts run.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def _violations_on(page, url: str) -> list[str]:
    response = page.goto(url)
    assert response.ok, f"{url} answered {response.status}"
    page.wait_for_load_state("networkidle")
    found = page.evaluate("window.__cspViolations")
    console = [text for text in page.js_errors if "Content Security Policy" in text]
    page.js_errors.clear()
    return [f"{url}: {text}" for text in [*found, *console]]


def _visit_all(page, live_server, urls: list[str]) -> list[str]:
    page.add_init_script(RECORD_VIOLATIONS)
    violations = []
    for url in urls:
        violations += _violations_on(page, f"{live_server.url}{url}")
    return violations


def test_the_agents_pages_raise_no_policy_violation(page, live_server, agent, new_ticket):
    log_in(page, live_server, agent.username)

    violations = _visit_all(page, live_server, [
        reverse("home"),
        reverse("console-queue", args=["mine"]),
        reverse("console-queue", args=["team"]),
        reverse("console-ticket", args=[new_ticket.number]),
        reverse("console-new-ticket"),
        reverse("knowledge:search"),
    ])

    assert violations == []


def test_the_supervisors_pages_raise_no_policy_violation(page, live_server, supervisor,
                                                         new_ticket):
    log_in(page, live_server, supervisor.username)

    violations = _visit_all(page, live_server, [
        reverse("home"),
        reverse("console-ticket", args=[new_ticket.number]),
        reverse("dashboard"),
        reverse("knowledge:search"),
        reverse("policy-simulator"),
        reverse("admin:index"),
    ])

    assert violations == []


def test_a_blocked_inline_script_is_reported(page, live_server, agent):
    """The recorder itself works: an injected inline script is refused and reported."""
    log_in(page, live_server, agent.username)
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(f"{live_server.url}/")
    page.wait_for_load_state("networkidle")

    page.evaluate("""() => { const s = document.createElement("script");
                             s.textContent = "window.__ran = true"; document.body.append(s); }""")
    page.wait_for_function("window.__cspViolations.length > 0")

    assert page.evaluate("window.__ran") is None
    assert any("script-src" in text for text in page.evaluate("window.__cspViolations"))
