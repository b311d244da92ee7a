from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShopConfig(AppConfig):
    """Customers, orders and order items: the shop's data the console works on."""

    name = "shop"
    verbose_name = _("Shop")
