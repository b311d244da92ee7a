from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ConsoleConfig(AppConfig):
    name = "cs_console"
    verbose_name = _("Console")

    def ready(self) -> None:
        from cs_console import roles

        # Keep every role's permissions equal to roles.ROLE_PERMISSIONS after each migrate,
        # so a permission added in code reaches existing installations without a hand step.
        post_migrate.connect(roles.sync_roles_after_migrate, dispatch_uid="cs_console_roles")
