"""Token authentication for the API (its own module: DRF imports it while loading views)."""

import functools
from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import authentication
from rest_framework.authtoken.models import Token


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication, the token and its user read by one fixed statement.

    Every API request pays for this read; building DRF's select_related query cost more
    than running it. Refusals (no such token, an inactive user) go through DRF's own code,
    so they answer exactly as before.
    """

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
    user = get_user_model()._meta.db_table
    return (f"SELECT u.*, t.created AS token_created FROM {Token._meta.db_table} t "  # noqa: S608
            f"JOIN {user} u ON u.id = t.user_id WHERE t.key = %s")  # names from the models
