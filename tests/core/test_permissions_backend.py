"""The console's backend reads permissions in one query and answers exactly as ModelBackend."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models.roles import Integration
from core.selectors.auth_backends import ConsoleModelBackend
from core.services.accounts import integration_account
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def fresh(user):
    return get_user_model().objects.get(pk=user.pk)


def test_the_same_permissions_as_model_backend(agent, supervisor, qa_inspector):
    channel = integration_account(username="app_gateway", integration=Integration.CHANNEL)
    direct = UserFactory(username="direct")
    direct.user_permissions.add(Permission.objects.get(codename="view_customer"))
    inactive = UserFactory(username="gone", is_active=False)
    inactive.user_permissions.add(Permission.objects.get(codename="view_customer"))
    boss = UserFactory(username="root", is_superuser=True)

    for user in (agent, supervisor, qa_inspector, channel, direct, inactive, boss):
        expected = ModelBackend().get_all_permissions(fresh(user))
        assert ConsoleModelBackend().get_all_permissions(fresh(user)) == expected, user
    assert "shop.view_customer" in ConsoleModelBackend().get_all_permissions(
        fresh(direct))


def test_has_perm_reads_once_per_user_object(agent):
    user = fresh(agent)

    with CaptureQueriesContext(connection) as queries:
        granted = user.has_perm("tickets.add_ticket")
        refused = user.has_perm("auth.delete_group")  # answered from the same set

    assert (granted, refused) == (True, False)
    assert len(queries) == 1


def test_logging_in_names_the_console_backend(client, agent):
    agent.set_password("secret-pass-123")
    agent.save()

    # Through the log-in page: the lockout backend in front needs the request.
    client.post(reverse("login"), {"username": agent.username, "password": "secret-pass-123"})

    assert client.session["_auth_user_backend"] == "core.selectors.auth_backends.ConsoleModelBackend"
