"""Permission checks answered from one query per user and request.

Django's ModelBackend reads a user's permissions with two ORM queries (their own and their
groups'), each built anew for every request; API intake asks on every ticket. This backend
reads the same set (the user's permissions and their groups', superusers excepted) with one
fixed statement and keeps it where ModelBackend keeps it (`_perm_cache` on the user), so
ModelBackend, listed after it, answers from the same set without a query of its own.

It does not check passwords: logging in stays with ModelBackend, so sessions keep naming it
(a session naming this backend, as the test client's force_login does, loads its user the
same way).
"""

import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection


class OneQueryPermissionsBackend(ModelBackend):
    def authenticate(self, request, **credentials):
        return None  # passwords are ModelBackend's; it loads session users too (get_user)

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if user_obj.is_superuser:  # every permission: ModelBackend's own way
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            with connection.cursor() as cursor:
                cursor.execute(_permissions_sql(), [user_obj.pk, user_obj.pk])
                user_obj._perm_cache = {f"{app}.{codename}" for app, codename in cursor}
        return user_obj._perm_cache


@functools.cache
def _permissions_sql() -> str:
    user = get_user_model()
    user_permissions = user.user_permissions.through._meta.db_table
    user_groups = user.groups.through._meta.db_table
    group_permissions = Group.permissions.through._meta.db_table
    return f"""
        SELECT ct.app_label, p.codename
        FROM {Permission._meta.db_table} p
        JOIN {ContentType._meta.db_table} ct ON ct.id = p.content_type_id
        WHERE p.id IN (SELECT up.permission_id FROM {user_permissions} up
                       WHERE up.user_id = %s)
           OR p.id IN (SELECT gp.permission_id FROM {group_permissions} gp
                       JOIN {user_groups} ug ON ug.group_id = gp.group_id
                       WHERE ug.user_id = %s)
    """  # noqa: S608 - table names from the models' metadata; the user id is a parameter
