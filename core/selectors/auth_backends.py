"""Authentication backend of the console."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import router

from core.selectors.access import load_roles_and_permissions, user_with_roles_and_permissions


class ConsoleModelBackend(ModelBackend):
    """ModelBackend whose permission checks share one query with the user's roles, and for
    a signed-in request also with the user."""

    def get_user(self, user_id):
        # Every signed-in request reads its user by key and checks a permission next: the
        # user, their roles and permissions come in one prepared statement.
        user_model = get_user_model()
        user = user_with_roles_and_permissions(user_id, router.db_for_read(user_model))
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj, obj=None):
        if (user_obj.is_active and not user_obj.is_anonymous and obj is None
                and not user_obj.is_superuser and not hasattr(user_obj, "_perm_cache")):
            load_roles_and_permissions(user_obj)
        return super().get_all_permissions(user_obj, obj)
