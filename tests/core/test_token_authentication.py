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
