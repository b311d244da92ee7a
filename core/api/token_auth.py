"""Token authentication for the API (its own module: DRF imports it while loading views)."""

import functools

from django.contrib.auth import get_user_model
from django.db import router
from rest_framework import authentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from core.api.throttling import AnonymousRequestsThrottle
from core.db.compiled import CompiledQuery


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication, the token and its user read by one fixed statement.

    Every API request pays for this read; building DRF's select_related query cost more
    than running it. Refusals (no such token, an inactive user) go through DRF's own code,
    so they answer exactly as before.
    """

    def authenticate(self, request):
        """Authenticate by token; count a request that stays anonymous against the anon rate.

        DRF checks permissions before throttles, so an anonymous request (or a wrong token)
        refused with 403 would never reach AnonRateThrottle. It is counted here instead, and
        an address over its rate is refused before its token is even looked at, so a right
        guess answers no differently from a wrong one.
        """
        # The Django request: DRF's own is still choosing its user.
        throttle = AnonymousRequestsThrottle(request._request)
        throttle.refuse_if_full()
        try:
            found = super().authenticate(request)
        except AuthenticationFailed:
            throttle.count()
            raise
        if found is None:
            throttle.count()
        return found

    def authenticate_credentials(self, key):
        found = _TOKEN_USER.rows(key=key)
        if not found:
            return super().authenticate_credentials(key)  # raises DRF's refusal
        user_model = get_user_model()
        alias = router.db_for_read(user_model)
        created, *user_values = found[0]
        user = user_model.from_db(alias, _user_attnames(), user_values)
        if not user.is_active:
            return super().authenticate_credentials(key)  # the same
        token = Token.from_db(alias, ["key", "user_id", "created"], [key, user.pk, created])
        token.user = user
        return user, token


@functools.cache
def _user_attnames() -> list[str]:
    return [field.attname for field in get_user_model()._meta.concrete_fields]


# The token's time and its user's columns, in the model's order (core.db.compiled).
_TOKEN_USER = CompiledQuery(
    lambda key: Token.objects.filter(key=key).values_list(
        "created", *(f"user__{attname}" for attname in _user_attnames())),
    texts=("key",))
