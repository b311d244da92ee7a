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



class _Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def search_limit(rate, rf, monkeypatch):
    """A throttle of 10 requests a minute for one address, on a clock the test moves."""
    from django.contrib.auth.models import AnonymousUser

    from core.api.throttling import NO_VIEW, ScopeRateThrottle

    rate("search", 10)
    clock = _Clock(6_000_000.0)  # the start of a minute
    monkeypatch.setattr(ScopeRateThrottle, "timer", clock)
    request = rf.get("/")
    request.user = AnonymousUser()

    def throttle():
        made = ScopeRateThrottle("search")
        made.key = made.get_cache_key(request, NO_VIEW)
        return made

    def allowed(times: int) -> list[bool]:
        return [ScopeRateThrottle("search").allow_request(request, NO_VIEW) for _ in range(times)]

    return clock, allowed, throttle


def test_the_rate_holds_over_the_last_period_not_only_within_a_minute(search_limit):
    clock, allowed, _throttle = search_limit
    clock.now += 50
    assert allowed(11) == [True] * 10 + [False]
    # Ten seconds later a new minute has begun, but the last 60 s still hold the ten.
    clock.now += 10
    assert allowed(1) == [False]
    # Half-way into it, half of the last minute's ten are taken to count: five more may go.
    clock.now += 30
    assert allowed(6) == [True] * 5 + [False]
    # Two minutes on, nothing counts any more.
    clock.now += 120
    assert allowed(11) == [True] * 10 + [False]


def test_a_refusal_says_how_long_until_a_request_would_go_through(search_limit):
    clock, allowed, throttle = search_limit
    allowed(10)  # all ten at the start of a minute
    full = throttle()
    assert full.is_full()
    assert full.wait() == 61  # the next minute counts all ten at its very start

    clock.now += 75  # a quarter into the next minute, 7.5 of the ten still count
    assert allowed(4) == [True, True, True, False]
    full = throttle()
    assert full.is_full()
    assert full.wait() == 4  # 3 s on: 10 × (1 − 18/60) + 3 = 10, level; after it, below


def test_the_cache_holds_counts_whatever_the_rate(search_limit):
    from django.core.cache import cache

    _clock, allowed, throttle = search_limit
    allowed(7)
    current_key, _previous_key, _elapsed = throttle()._windows()
    assert cache.get(current_key) == 7


def test_a_rate_of_none_refuses_every_request_with_a_wait(rate, api, agent):
    rate("intake", 0)
    api.force_authenticate(agent)

    _assert_throttled(api.post(reverse("ticket-list"), {}, format="json"))
