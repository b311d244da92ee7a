"""Token authentication for the API (its own module: DRF imports it while loading views)."""

import functools

from django.contrib.auth import get_user_model
from django.db import connections, router
from rest_framework import authentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from core.api.throttling import AnonymousRequestsThrottle
from core.db.compiled import model_from_row
from core.db.prepared import columns_of
from core.selectors.access import read_user_with_roles, roles_and_permissions_sql


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication: the token, its user, the user's roles and permissions,
    all read by one fixed statement.

    Every API request pays for this read, and every one checks a permission next; building
    DRF's select_related query cost more than running it, and the permissions took a second
    round trip. Refusals (no such token, an inactive user) go through DRF's own code, so
    they answer exactly as before.
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
        user_model = get_user_model()
        alias = router.db_for_read(user_model)
        found = read_user_with_roles(_token_sql(), [key] * 4, alias, leading=1)
        if found is None:
            return super().authenticate_credentials(key)  # raises DRF's refusal
        user, (created,) = found
        if not user.is_active:
            return super().authenticate_credentials(key)  # the same
        token = model_from_row(Token, alias, [key, user.pk, created])
        token.user = user
        return user, token


@functools.cache
def _token_sql() -> str:
    """The user's row (the token's time, then the user's columns, in the model's order),
    then the user's roles and permissions (core.selectors.access), found by the token's key."""
    user_model = get_user_model()
    quote = connections["default"].ops.quote_name
    token_table = quote(Token._meta.db_table)
    columns = {field.name: quote(str(field.column)) for field in Token._meta.concrete_fields}
    key, user_id, created = columns["key"], columns["user"], columns["created"]
    user_pk = quote(str(user_model._meta.pk.column))
    owner = f"(SELECT {user_id} FROM {token_table} WHERE {key} = %s)"  # noqa: S608 - as below
    return f"""
        SELECT 's', NULL, NULL, NULL, t.{created}, {columns_of(user_model, "u")}
          FROM {token_table} t JOIN {quote(user_model._meta.db_table)} u ON u.{user_pk} = t.{user_id}
         WHERE t.{key} = %s
        UNION ALL
        {roles_and_permissions_sql(owner, 1 + len(user_model._meta.concrete_fields))}
    """  # noqa: S608 - table and column names from the models' metadata; the key is a parameter
