"""Authentication backend of the console."""

from django.contrib.auth.backends import ModelBackend

from core.db.prepared import prepared_statements
from core.selectors.access import load_roles_and_permissions


class ConsoleModelBackend(ModelBackend):
    """ModelBackend whose permission checks share one query with the user's roles."""

    def get_user(self, user_id):
        # Every request reads its user by key: prepared, the read is not planned again.
        with prepared_statements():
            return super().get_user(user_id)

    def get_all_permissions(self, user_obj, obj=None):
        if (user_obj.is_active and not user_obj.is_anonymous and obj is None
                and not user_obj.is_superuser and not hasattr(user_obj, "_perm_cache")):
            load_roles_and_permissions(user_obj)
        return super().get_all_permissions(user_obj, obj)
