from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    """Teams' agents and routing rules: which team and agent a ticket goes to, and claiming
    the next ticket."""

    name = "routing"
    verbose_name = _("Routing")

    def ready(self) -> None:
        # Imported here, once the models are loaded (Django's rule for ready()).
        from routing.services import assignment
        from routing.services.config import routing_config
        from sla.services import calendar
        from tickets.services import lifecycle

        # Tickets and the SLA clocks sit below routing: it hands them what they ask of it.
        lifecycle.register_router(assignment)
        calendar.use_config_source(routing_config)
