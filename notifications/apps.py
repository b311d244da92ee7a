from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """Messages to customers and staff: the outbox, its templates and delivery."""

    name = "notifications"
    verbose_name = _("Notifications")
