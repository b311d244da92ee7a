from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Tickets and shop data")

    def ready(self) -> None:
        from tickets.schedules import ensure_schedules

        post_migrate.connect(ensure_schedules, sender=self, dispatch_uid="tickets_schedules")
