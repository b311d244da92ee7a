"""Accounts that are not people: the system itself and the channel and shop integrations."""

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from core.models.roles import Integration

if TYPE_CHECKING:
    from core.models.user import User

# Sweeps, scheduled tasks and automatic approvals act as this account, so every history row
# names an actor. It cannot log in: inactive, with an unusable password.
SYSTEM_USERNAME = "system"
# The channel integration the demo data's customer messages arrive through.
DEMO_CHANNEL_USERNAME = "channel_gateway"


def system_user() -> "User":
    """Return the system account, creating it the first time it acts."""
    user, _created = get_user_model().objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={"is_active": False, "password": make_password(None), "first_name": "System"},
    )
    return user


def is_system_user(user: "User | None") -> bool:
    return user is not None and user.username == SYSTEM_USERNAME


def integration_account(*, username: str, integration: str) -> "User":
    """Return the service account of a channel or shop integration, created if new.

    It belongs to the integration's group only (see roles.INTEGRATION_PERMISSIONS), never
    to a staff role, and has no password: it authenticates with its API token.
    """
    from django.contrib.auth.models import Group

    if integration not in Integration.values:
        raise ValueError(f"unknown integration {integration!r}")
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"password": make_password(None)},
    )
    if not created and (user.is_staff or user.is_superuser or user.groups.exclude(
            name__in=Integration.values).exists()):
        raise ValueError(f"{username!r} is a staff account, not an integration's")
    user.groups.add(Group.objects.get(name=integration))
    return user


def integration_token(user: "User", *, rotate: bool = False) -> str:
    """Return the account's DRF token; `rotate` replaces it (the old one stops working)."""
    from rest_framework.authtoken.models import Token

    if rotate:
        Token.objects.filter(user=user).delete()
    token, _created = Token.objects.get_or_create(user=user)
    key: str = token.key  # DRF's stubs leave the column's type open
    return key
