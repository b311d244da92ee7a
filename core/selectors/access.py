"""The signed-in user's roles and permissions, read together in one fixed query."""

import functools
from collections.abc import Iterable, Sequence

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection, connections

from core.db.compiled import model_from_row
from core.db.prepared import columns_of, prepared_statements


def load_roles_and_permissions(user) -> None:
    """Read the user's role groups and permissions in one query and keep them on the user.

    Django's ModelBackend reads a user's own permissions and their groups' permissions in two
    queries, and the role names took a third; every console page and API call needs all
    three. The caches are the ones ModelBackend itself fills, so they last as long as the
    user object (one request), exactly as before. The statement is fixed SQL, written once
    per process: building the same ORM query on every request cost more than running it,
    and prepared, as every request runs it (core.db.prepared).
    """
    with prepared_statements(), connection.cursor() as cursor:
        cursor.execute(roles_and_permissions_sql(), [user.pk, user.pk, user.pk])
        remember_roles_and_permissions(user, cursor.fetchall())


def user_with_roles_and_permissions(user_id: int, using: str):
    """Return the user with this id, their roles and permissions already kept on them (one
    fixed statement instead of the user's, then load_roles_and_permissions'), or None."""
    found = read_user_with_roles(_user_with_roles_sql(), [user_id] * 4, using)
    return None if found is None else found[0]


def read_user_with_roles(sql: str, params: list, using: str, *, leading: int = 0):
    """Run a prepared statement whose rows are the user's own row (source "s", then
    `leading` values of the caller's, then the user's columns in the model's order) and the
    rows of `roles_and_permissions_sql`. Return (user, the leading values), the roles and
    permissions kept on the user, or None when there is no user's row."""
    with prepared_statements(using), connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    user_row = next((row for row in rows if row[0] == "s"), None)
    if user_row is None:
        return None
    start = ROLE_COLUMNS + leading
    user = model_from_row(get_user_model(), using, user_row[start:])
    remember_roles_and_permissions(user, rows)
    return user, user_row[ROLE_COLUMNS:start]


def remember_roles_and_permissions(user, rows: Iterable[Sequence]) -> None:
    """Keep the rows of `roles_and_permissions_sql` on the user, as ModelBackend keeps its
    caches. Rows of any other source (a statement that also read the user) are left out."""
    groups: set[str] = set()
    group_perms: set[str] = set()
    user_perms: set[str] = set()
    for source, group, app_label, codename, *_rest in rows:
        if source == "g":
            groups.add(group)
        elif source in ("p", "u"):
            (user_perms if source == "u" else group_perms).add(f"{app_label}.{codename}")
    user._group_names = frozenset(groups)
    if user.is_active and not user.is_superuser:
        user._user_perm_cache = user_perms
        user._group_perm_cache = group_perms
        user._perm_cache = user_perms | group_perms


# The columns of roles_and_permissions_sql's rows; a statement that unites them with the
# user's own row ("s") puts that row's columns after these (read_user_with_roles).
ROLE_COLUMNS = 4


@functools.cache
def _user_with_roles_sql() -> str:
    """The user's row ("s", three NULLs, the user's columns in the model's order), then
    their roles and permissions, for one user id given four times."""
    user_model = get_user_model()
    quote = connection.ops.quote_name
    pk = quote(str(user_model._meta.pk.column))
    return f"""
        SELECT 's', NULL, NULL, NULL, {columns_of(user_model, "u")}
          FROM {quote(user_model._meta.db_table)} u
         WHERE u.{pk} = %s
        UNION ALL
        {roles_and_permissions_sql("%s", len(user_model._meta.concrete_fields))}
    """  # noqa: S608 - table and column names from the models' metadata; the id is a parameter


@functools.cache
def roles_and_permissions_sql(user: str = "%s", padding: int = 0) -> str:
    """Return the query of (source, group name, app label, codename) rows for one user.

    Source "g" is a group the user belongs to, "p" a permission of one of those groups and
    "u" a permission given to the user directly. Table names come from the models.
    `user` is the SQL of the user's id, used three times (a parameter, or a subquery that
    finds the user by something else); `padding` NULL columns end each row, for a statement
    that unites these rows with rows of its own.
    """
    user_model = get_user_model()
    user_groups = user_model.groups.through._meta.db_table
    user_permissions = user_model.user_permissions.through._meta.db_table
    group_permissions = Group.permissions.through._meta.db_table
    group, permission = Group._meta.db_table, Permission._meta.db_table
    content_type = ContentType._meta.db_table
    user_column = user_model.groups.field.m2m_column_name()
    own_column = user_model.user_permissions.field.m2m_column_name()
    pad = ", NULL" * padding
    return f"""
        SELECT 'g', g.name, NULL, NULL{pad}
          FROM {group} g JOIN {user_groups} ug ON ug.group_id = g.id
         WHERE ug.{user_column} = {user}
        UNION ALL
        SELECT 'p', NULL, ct.app_label, p.codename{pad}
          FROM {permission} p
          JOIN {content_type} ct ON ct.id = p.content_type_id
          JOIN {group_permissions} gp ON gp.permission_id = p.id
          JOIN {user_groups} ug ON ug.group_id = gp.group_id
         WHERE ug.{user_column} = {user}
        UNION ALL
        SELECT 'u', NULL, ct.app_label, p.codename{pad}
          FROM {permission} p
          JOIN {content_type} ct ON ct.id = p.content_type_id
          JOIN {user_permissions} up ON up.permission_id = p.id
         WHERE up.{own_column} = {user}
    """  # noqa: S608 - table and column names from the models' metadata; values are parameters
