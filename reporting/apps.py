from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportingConfig(AppConfig):
    """Daily roll-ups, the dashboard and exports."""

    name = "reporting"
    verbose_name = _("Reporting")

    def ready(self) -> None:
        from core.observability.metrics import register_collector
        from reporting.selectors.operations import OperationsCollector

        # The live numbers on /metrics: reporting reads every app they come from.
        register_collector(OperationsCollector())
