from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    """Time limits: SLA policies, due times on the business calendar, customer-update clocks
    and the SLA sweeps."""

    name = "sla"
    verbose_name = _("Service levels")

    def ready(self) -> None:
        # Imported here, once the models are loaded (Django's rule for ready()).
        from sla.services import clocks
        from tickets.services import lifecycle

        lifecycle.register_clocks(clocks)
