"""A supervisor tries a case in the policy simulator and reads the options and the trace."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.e2e.test_login_and_home import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def default_rules():
    """Browser tests empty the database between cases; put the shipped rule table back."""
    from django.apps import apps

    from policies.services.seeding import install_defaults

    install_defaults(apps)


def test_a_supervisor_decides_a_case_in_the_simulator(page, live_server, supervisor, screenshot,
                                                      default_rules):
    log_in(page, live_server, supervisor.username)
    page.click("[data-nav=simulator]")
    signed = timezone.localtime() - timedelta(days=3)

    page.fill("#id_order_paid_amount", "259.00")
    page.fill("#id_item_paid_amount", "259.00")
    page.fill("#id_signed_at", signed.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_paid_at", (signed - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_shipped_at", (signed - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    page.select_option("#id_item_category", "apparel")
    page.select_option("#id_reason", "no_reason")
    page.select_option("#id_item_condition", "intact")
    page.click("#case-form button[type=submit]")

    row = page.locator("#options tr[data-kind=return_refund]")
    row.wait_for()
    assert row.get_attribute("data-verdict") == "allow"
    assert page.locator("#trace tbody tr").count() > 10
    screenshot("policy-simulator")
    assert page.js_errors == []
