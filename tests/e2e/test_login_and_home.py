"""Every role logs in through the real page and sees its home page, in Chinese and English."""

import pytest

from core.models.roles import Role
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url  # anonymous visitors are sent to log in
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=current-user]")


@pytest.mark.parametrize("role", list(Role))
def test_each_role_logs_in_and_sees_its_panel(page, live_server, personas, screenshot, role,
                                              make_ticket):
    make_ticket("in_progress")
    log_in(page, live_server, personas[role].username)

    assert page.locator(f"[data-panel='{role.value}']").is_visible()
    assert page.locator("[data-nav=admin]").count() == (1 if personas[role].is_staff else 0)
    screenshot(f"home-{role.value}")
    assert page.js_errors == []


def test_the_language_switcher_turns_the_console_english(page, live_server, agent, screenshot):
    log_in(page, live_server, agent.username)
    assert page.locator("text=退出登录").is_visible()

    page.select_option("#language-switcher", "en")
    page.wait_for_selector("text=Log out")

    screenshot("home-agent-en")
    assert page.js_errors == []


def test_the_login_page_refuses_a_wrong_password(page, live_server, agent, screenshot):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", agent.username)
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")

    assert page.locator(".alert-danger").is_visible()
    screenshot("login-refused")
