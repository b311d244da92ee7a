"""Four eyes in the browser: a supervisor proposes a rule change, previews and submits it; risk/
legal reads the diff and the backtest on the approval page and approves; the live row changes
only then."""

from decimal import Decimal

import pytest

from policies.models import ChangeSetState, PolicyChangeSet, PolicyRule
from tests.e2e.test_login_and_home import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def default_rules():
    """Browser tests empty the database between cases; put the shipped rule table back."""
    from django.apps import apps

    from policies.services.seeding import install_defaults

    install_defaults(apps)


def _action(page, name: str):
    return page.locator(f"form:has(input[name=action][value={name}]) input[type=submit]")


def test_a_rule_change_takes_effect_only_after_a_second_person_approves(
        page, live_server, supervisor, risk_officer, default_rules, screenshot):
    rule = PolicyRule.objects.filter(refund_cap__isnull=False).order_by("priority").first()
    assert rule is not None
    old_cap = rule.refund_cap

    log_in(page, live_server, supervisor.username)
    page.goto(f"{live_server.url}/admin/policies/policyrule/{rule.pk}/propose/")
    page.fill("#id_refund_cap", "150.00")
    page.click("input[name=_preview]")
    page.locator("input[name=_confirm]").wait_for()
    assert "150" in page.content()  # the preview shows the new value beside the old one
    page.click("input[name=_confirm]")
    page.wait_for_url("**/admin/policies/policychangeset/*/change/")
    page.fill("#id_title", "Lower the minor-flaw refund cap")
    _action(page, "submit").click()
    page.wait_for_load_state()
    change_set = PolicyChangeSet.objects.get()
    assert change_set.state == ChangeSetState.SUBMITTED
    assert _action(page, "approve").count() == 0  # never by its author
    rule.refresh_from_db()
    assert rule.refund_cap == old_cap  # nothing is live before the approval

    page.context.clear_cookies()
    log_in(page, live_server, risk_officer.username)
    page.goto(f"{live_server.url}/admin/policies/policychangeset/{change_set.pk}/change/")
    page.get_by_text("150.00").first.wait_for()
    screenshot("policy-change-set-approval", full_page=True)
    _action(page, "approve").click()
    page.wait_for_load_state()

    change_set.refresh_from_db()
    rule.refresh_from_db()
    assert change_set.state == ChangeSetState.PUBLISHED
    assert rule.refund_cap == Decimal("150.00")
    assert rule.history.latest().history_user == risk_officer
    assert page.js_errors == []
