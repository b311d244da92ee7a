from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportingConfig(AppConfig):
    """Daily roll-ups, the dashboard and exports."""

    name = "reporting"
    verbose_name = _("Reporting")
