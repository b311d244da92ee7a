"""The signed-in user's roles and permissions, read together in one query."""

from django.contrib.auth.models import Group, Permission
from django.db.models import BooleanField, CharField, F, Value


def load_roles_and_permissions(user) -> None:
    """Read the user's role groups and permissions in one query and keep them on the user.

    Django's ModelBackend reads a user's own permissions and their groups' permissions in two
    queries, and the role names took a third; every console page needs all three. The
    caches are the ones ModelBackend itself fills, so they last as long as the user object
    (one request), exactly as before.
    """
    from_groups = Group.objects.filter(user=user).annotate(
        own=Value(False, output_field=BooleanField()), group_name=F("name"),
        app_label=F("permissions__content_type__app_label"),
        codename=F("permissions__codename"),
    ).values_list("own", "group_name", "app_label", "codename").order_by()
    own = Permission.objects.filter(user=user).annotate(
        own=Value(True, output_field=BooleanField()),
        group_name=Value(None, output_field=CharField()),
        app_label=F("content_type__app_label"), perm_codename=F("codename"),
    ).values_list("own", "group_name", "app_label", "perm_codename").order_by()
    groups, group_perms, user_perms = set(), set(), set()
    for is_own, group, app_label, codename in from_groups.union(own, all=True):
        if not is_own:
            groups.add(group)
        if codename is not None:
            (user_perms if is_own else group_perms).add(f"{app_label}.{codename}")
    user._group_names = frozenset(groups)
    if user.is_active and not user.is_superuser:
        user._user_perm_cache = user_perms
        user._group_perm_cache = group_perms
        user._perm_cache = user_perms | group_perms
