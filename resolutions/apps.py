from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResolutionsConfig(AppConfig):
    """What the customer gets: resolutions, their approval and execution, payouts, the payment gateway and their sweeps."""

    name = "resolutions"
    verbose_name = _("Resolutions and payouts")

    def ready(self) -> None:
        # Imported here, once the models are loaded (Django's rule for ready()).
        from policies.services.facts import register_ticket_facts_reader
        from resolutions.models import Payout, Resolution
        from resolutions.services.decision_facts import facts_for_ticket
        from tickets.services.legal_holds import freeze

        # The policy simulator decides tickets too; their resolution history is read here,
        # above policies.
        register_ticket_facts_reader(facts_for_ticket)
        # A legal hold freezes the ticket's resolutions and the order's payouts too (the
        # services have the ticket at hand already, so reading it costs nothing).
        freeze(Resolution, held_by=lambda resolution: {"ticket": resolution.ticket})
        freeze(Payout, held_by=lambda payout: {"order_id": payout.order_id})
