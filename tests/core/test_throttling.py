"""Every API scope answers 429 with Retry-After past its rate; so does the customer search."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from tests.conftest import GENEROUS_RATES


@pytest.fixture
def rate(monkeypatch):
    """Lower one scope's rate to `count` requests a minute."""

    def lower(scope: str, count: int) -> None:
        rates = dict(GENEROUS_RATES, **{scope: f"{count}/minute"})
        monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)

    return lower


def _statuses(call, times: int) -> list[int]:
    return [call().status_code for _ in range(times)]


def _assert_throttled(response) -> None:
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1


def test_anonymous_requests_are_throttled(rate, db):
    rate("anon", 2)
    client = APIClient()
    url = reverse("ticket-list")

    assert _statuses(lambda: client.get(url), 2) == [403, 403]
    _assert_throttled(client.get(url))


def test_each_user_has_a_rate_of_their_own(rate, api, agent, other_agent, team):
    rate("user", 2)
    url = reverse("ticket-list")
    api.force_authenticate(agent)

    assert _statuses(lambda: api.get(url), 2) == [200, 200]
    _assert_throttled(api.get(url))
    api.force_authenticate(other_agent)
    assert api.get(url).status_code == 200


@pytest.mark.parametrize("name", ["knowledge-search", "knowledge-suggestions"])
def test_searches_have_a_stricter_rate(rate, api, agent, team, name):
    rate("search", 2)
    api.force_authenticate(agent)
    url = reverse(name)

    _statuses(lambda: api.get(url, {"q": "退款"}), 2)
    _assert_throttled(api.get(url, {"q": "退款"}))
    assert api.get(reverse("ticket-list")).status_code == 200


def test_intake_has_a_stricter_rate_but_listing_does_not_count(rate, api, agent, team):
    rate("intake", 1)
    api.force_authenticate(agent)
    url = reverse("ticket-list")

    api.post(url, {}, format="json")
    assert api.get(url).status_code == 200
    _assert_throttled(api.post(url, {}, format="json"))


def test_the_customer_search_is_slowed_past_its_rate(rate, client, agent, team):
    rate("customer_search", 2)
    client.force_login(agent)
    url = reverse("console-customer-search")

    assert _statuses(lambda: client.get(url, {"q": "13800000000"}), 2) == [200, 200]
    _assert_throttled(client.get(url, {"q": "13800000000"}))


def test_wrong_tokens_are_throttled_and_then_a_right_one_is_refused_too(rate, db, agent):
    from rest_framework.authtoken.models import Token

    rate("anon", 2)
    client = APIClient()
    url = reverse("ticket-list")
    for number in range(2):
        client.credentials(HTTP_AUTHORIZATION=f"Token wrong{number}")
        assert client.get(url).status_code in {401, 403}

    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=agent).key}")
    _assert_throttled(client.get(url))
    assert client.get(url, REMOTE_ADDR="10.9.9.9").status_code == 200
