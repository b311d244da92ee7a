from django.contrib.auth.models import AbstractUser
from django.utils.translation import gettext_lazy as _

from core.models.names import person_name
from core.models.roles import Role
from core.selectors.access import load_roles_and_permissions


class User(AbstractUser):
    """A console user: agents, supervisors, QA inspectors and risk/legal staff.

    Roles are Django groups (see core.models.roles); this model exists so the project owns
    its user table from the first migration.
    """

    # Filled by core.selectors.access.load_roles_and_permissions, for one request.
    _group_names: frozenset[str]

    class Meta(AbstractUser.Meta):
        # The stubs declare these str; Django takes lazy translations here as everywhere.
        verbose_name = _("user")  # type: ignore[assignment]
        verbose_name_plural = _("users")  # type: ignore[assignment]
        swappable = "AUTH_USER_MODEL"

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def get_full_name(self) -> str:
        """Return the name in the active language's order (王小美 in Chinese, see names)."""
        return person_name(self.first_name, self.last_name)

    @property
    def role_names(self) -> list[str]:
        """Return the role groups the user belongs to, in the order roles are declared."""
        cached = getattr(self, "_role_names", None)
        if cached is None:
            if getattr(self, "_group_names", None) is None:
                # With the permissions, in one query (the first permission check needs them).
                load_roles_and_permissions(self)
            cached = [role.value for role in Role if role.value in self._group_names]
            self._role_names = cached
        return cached

    def has_role(self, *roles: str) -> bool:
        """Return True if the user holds any of the given roles (superusers hold all)."""
        return self.is_superuser or any(role in self.role_names for role in roles)
