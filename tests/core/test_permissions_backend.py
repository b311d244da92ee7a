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


def test_a_signed_in_user_comes_with_roles_and_permissions_in_one_statement(
        agent, supervisor, qa_inspector):
    from core.models.roles import Role

    boss = UserFactory(username="root", is_superuser=True)
    for user in (agent, supervisor, qa_inspector, boss):
        with CaptureQueriesContext(connection) as queries:
            found = ConsoleModelBackend().get_user(user.pk)
            permissions = found.get_all_permissions()
            roles = {role for role in Role.values if found.has_role(role)}
        # A superuser's permissions are every permission, read as ModelBackend reads them.
        assert user.is_superuser or len(queries) == 1, user
        assert found == user
        assert {f.attname: getattr(found, f.attname) for f in type(user)._meta.concrete_fields} == {
            f.attname: getattr(fresh(user), f.attname) for f in type(user)._meta.concrete_fields}
        assert permissions == ModelBackend().get_all_permissions(fresh(user))
        fresh_user = fresh(user)
        assert roles == {role for role in Role.values if fresh_user.has_role(role)}


def test_no_user_for_a_missing_or_inactive_account(agent):
    gone = UserFactory(username="gone", is_active=False)

    assert ConsoleModelBackend().get_user(gone.pk) is None
    assert ConsoleModelBackend().get_user(agent.pk + 10_000) is None
