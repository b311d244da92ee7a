from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeskConfig(AppConfig):
    """The agent's desk: the home page, navigation and the pages that compose every capability."""

    name = "desk"
    verbose_name = _("Agent desk")
