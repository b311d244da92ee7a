import pytest
from django.contrib.auth.models import Group, Permission

from cs_console import roles
from cs_console.roles import ROLE_PERMISSIONS, Role


def _permission_keys(group: Group) -> set[str]:
    return {
        f"{app_label}.{codename}"
        for app_label, codename in group.permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role))
def test_every_role_exists_with_exactly_its_permissions(role):
    group = Group.objects.get(name=role.value)

    assert _permission_keys(group) == set(ROLE_PERMISSIONS[role])


@pytest.mark.django_db
def test_only_supervisors_may_change_teams(personas):
    allowed = {role for role, user in personas.items() if user.has_perm("tickets.change_team")}

    assert allowed == {Role.SUPERVISOR}


@pytest.mark.django_db
def test_every_role_may_read_the_shop_mirror(personas):
    for user in personas.values():
        assert user.has_perm("tickets.view_order")
        assert user.has_perm("tickets.view_customer")


@pytest.mark.django_db
def test_sync_restores_a_permission_removed_by_hand():
    from django.apps import apps

    group = Group.objects.get(name=Role.SUPERVISOR)
    group.permissions.remove(Permission.objects.get(codename="change_team"))

    roles.sync_roles(apps, strict=True)

    assert "tickets.change_team" in _permission_keys(group)


@pytest.mark.django_db
def test_strict_sync_refuses_an_unknown_permission(monkeypatch):
    from django.apps import apps

    monkeypatch.setitem(ROLE_PERMISSIONS, Role.AGENT, ["tickets.fly_to_the_moon"])

    with pytest.raises(LookupError, match=r"tickets\.fly_to_the_moon"):
        roles.sync_roles(apps, strict=True)


@pytest.mark.django_db
def test_user_knows_its_roles(supervisor):
    assert supervisor.role_names == [Role.SUPERVISOR]
    assert supervisor.has_role(Role.SUPERVISOR, Role.QA)
    assert not supervisor.has_role(Role.AGENT)


@pytest.mark.django_db
def test_every_migrate_brings_role_permissions_back_in_line():
    from django.core.management.sql import emit_post_migrate_signal

    group = Group.objects.get(name=Role.AGENT)
    group.permissions.clear()

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")

    assert _permission_keys(group) == set(ROLE_PERMISSIONS[Role.AGENT])
