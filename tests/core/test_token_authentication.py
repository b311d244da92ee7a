"""Token authentication answers as DRF's: the token's user, or DRF's own refusals."""

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def get_tickets(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get(reverse("ticket-list"))


def test_a_valid_token_authenticates_its_user(agent):
    token = Token.objects.create(user=agent)

    response = get_tickets(token.key)

    assert response.status_code == 200
    assert response.wsgi_request.user == agent
    assert response.wsgi_request.auth == token


def test_an_unknown_token_is_refused_like_drf_does(settings):
    settings.LANGUAGE_CODE = "en"

    response = get_tickets("0" * 40)

    # 403, not 401: session authentication comes first and sends no WWW-Authenticate.
    assert response.status_code == 403
    assert response.data["detail"] == "Invalid token."


def test_an_inactive_users_token_is_refused(agent, settings):
    settings.LANGUAGE_CODE = "en"
    token = Token.objects.create(user=agent)
    agent.is_active = False
    agent.save()

    response = get_tickets(token.key)

    assert response.status_code == 403
    assert response.data["detail"] == "User inactive or deleted."


def test_one_statement_reads_the_token_its_user_roles_and_permissions(agent, supervisor):
    from django.contrib.auth.backends import ModelBackend
    from django.contrib.auth.models import Permission
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core.api.token_auth import TokenAuthentication
    from core.models.roles import Integration, Role
    from core.services.accounts import integration_account
    from tests.factories import UserFactory

    channel = integration_account(username="app_gateway", integration=Integration.CHANNEL)
    direct = UserFactory(username="direct")
    direct.user_permissions.add(Permission.objects.get(codename="view_customer"))
    for user in (agent, supervisor, channel, direct):
        key = Token.objects.create(user=user).key
        with CaptureQueriesContext(connection) as queries:
            found, token = TokenAuthentication().authenticate_credentials(key)
            permissions = found.get_all_permissions()
            roles = {role for role in Role.values if found.has_role(role)}
        assert len(queries) == 1, user
        assert (found, token.key, token.user) == (user, key, user)
        assert token.created == Token.objects.get(key=key).created
        assert permissions == ModelBackend().get_all_permissions(type(user).objects.get(pk=user.pk))
        assert roles == set(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
    assert "shop.view_customer" in permissions
