"""Token authentication for the API (its own module: DRF imports it while loading views)."""

import functools
from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import authentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from core.api.throttling import AnonymousRequestsThrottle
from core.db.prepared import columns_of


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
        found = list(get_user_model().objects.raw(_token_user_sql(), [key]))
        if not found or not found[0].is_active:
            return super().authenticate_credentials(key)  # raises DRF's refusal
        user = found[0]
        # The statement adds the token's column `created` to the user as `token_created`.
        row_with_token: Any = user
        token = Token.from_db(user._state.db, ["key", "user_id", "created"],
                              [key, user.pk, row_with_token.token_created])
        token.user = user
        return user, token


@functools.cache
def _token_user_sql() -> str:
    user = get_user_model()
    return (f"SELECT {columns_of(user, 'u')}, t.created AS token_created "  # noqa: S608
            f"FROM {Token._meta.db_table} t JOIN {user._meta.db_table} u ON u.id = t.user_id "
            "WHERE t.key = %s")  # names from the models
