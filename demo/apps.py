from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """Demo data and the bulk loader (seed_demo); production settings can leave it out."""

    name = "demo"
    verbose_name = _("Demo data")
