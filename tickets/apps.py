from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    """Tickets, their timeline (messages, attachments), tags, teams, numbering and intake."""

    name = "tickets"
    verbose_name = _("Tickets")

    def ready(self) -> None:
        # Imported here, once the models are loaded (Django's rule for ready()).
        from shop.models import Order, OrderItem
        from tickets.services.legal_holds import freeze

        # A legal hold freezes the ticket's order data for every writer, the admin too: the
        # one write guard that is not in a service (see docs/architecture.md).
        freeze(Order, held_by=lambda order: None if order.pk is None else {"order_id": order.pk})
        freeze(OrderItem,
               held_by=lambda item: None if item.pk is None else {"order_id": item.order_id})
