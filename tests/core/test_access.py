"""Roles and permissions come in one query and answer exactly as Django's ModelBackend does."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission

from core.models.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def fresh(user):
    """Return the user as a new request sees it: no permission or role caches yet."""
    return get_user_model().objects.get(pk=user.pk)


def test_roles_and_permissions_take_one_query(agent, django_assert_num_queries):
    user = fresh(agent)

    with django_assert_num_queries(1):
        assert user.has_role(Role.AGENT)
        assert not user.has_role(Role.SUPERVISOR)
        assert user.has_perm("tickets.view_ticket")
        assert not user.has_perm("tickets.assign_ticket")


def test_a_permission_check_first_also_brings_the_roles(agent, django_assert_num_queries):
    user = fresh(agent)

    with django_assert_num_queries(1):
        assert user.has_perm("tickets.view_ticket")
        assert user.role_names == [Role.AGENT]


def test_permissions_match_django_for_own_and_group_permissions(agent):
    own = Permission.objects.get(codename="assign_ticket")
    agent.user_permissions.add(own)
    agent.groups.add(Group.objects.create(name="no permissions at all"))
    user, reference = fresh(agent), fresh(agent)

    assert user.get_all_permissions() == ModelBackend().get_all_permissions(reference)
    assert user.get_user_permissions() == {"tickets.assign_ticket"}
    assert user.get_group_permissions() == ModelBackend().get_group_permissions(reference)
    assert user.has_perm("tickets.assign_ticket")
    assert set(user.role_names) == {Role.AGENT}


def test_inactive_users_have_no_permissions_but_keep_their_roles(agent):
    agent.is_active = False
    agent.save()
    user = fresh(agent)

    assert not user.has_perm("tickets.view_ticket")
    assert user.get_all_permissions() == set()
    assert user.role_names == [Role.AGENT]


def test_superusers_hold_every_permission():
    user = fresh(UserFactory(is_superuser=True))

    assert user.has_perm("tickets.assign_ticket")
    assert len(user.get_all_permissions()) == Permission.objects.count()
    assert user.role_names == []
