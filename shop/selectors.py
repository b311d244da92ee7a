"""Reads about the shop itself."""

from django.conf import settings
from django.utils.translation import gettext as _


def shop_display_name() -> str:
    """Return the shop's name as its customers know it (SHOP_DISPLAY_NAME), for their pages."""
    return settings.SHOP_DISPLAY_NAME or _("Our shop")
