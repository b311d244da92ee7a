"""Log-in lockout: repeated wrong passwords lock the user name and the address (django-axes)."""

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

LIMIT = 3


@pytest.fixture(autouse=True)
def _low_failure_limit(settings, english_messages):
    settings.AXES_FAILURE_LIMIT = LIMIT


def _log_in(client, username, password, address="10.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password},
                       REMOTE_ADDR=address)


def _is_locked_out(response) -> bool:
    return response.status_code == 429 and b"Too many failed log-in attempts" in response.content


def test_wrong_passwords_from_many_addresses_lock_the_user(client, agent):
    for number in range(LIMIT):
        _log_in(client, agent.username, "wrong", address=f"10.0.1.{number}")

    response = _log_in(client, agent.username, PASSWORD, address="10.0.2.1")

    assert _is_locked_out(response)
    assert "_auth_user_id" not in client.session


def test_wrong_passwords_for_many_users_lock_the_address(client, db):
    for number in range(LIMIT):
        _log_in(client, f"guess{number}", "wrong", address="10.0.3.1")
    someone = UserFactory(username="someone")

    locked = _log_in(client, someone.username, PASSWORD, address="10.0.3.1")
    elsewhere = _log_in(client, someone.username, PASSWORD, address="10.0.3.2")

    assert _is_locked_out(locked)
    assert elsewhere.status_code == 302


def test_fewer_failures_than_the_limit_still_let_the_right_password_in(client, agent):
    for _ in range(LIMIT - 1):
        _log_in(client, agent.username, "wrong")

    response = _log_in(client, agent.username, PASSWORD)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(agent.pk)


def test_an_administrator_unlocks_by_deleting_the_attempts_in_the_admin(client, agent):
    for _ in range(LIMIT):
        _log_in(client, agent.username, "wrong")
    assert _is_locked_out(_log_in(client, agent.username, PASSWORD))
    admin_client = client.__class__()
    admin_client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    for attempt in AccessAttempt.objects.all():
        url = reverse("admin:axes_accessattempt_delete", args=[attempt.pk])
        assert admin_client.post(url, {"post": "yes"}).status_code == 302

    assert _log_in(client, agent.username, PASSWORD).status_code == 302
