from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_delete, pre_save
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Tickets and shop data")

    def ready(self) -> None:
        from policies.facts import register_ticket_facts_reader
        from tickets.schedules import ensure_schedules
        from tickets.services.decision_facts import facts_for_ticket
        from tickets.services.legal_holds import FROZEN_MODELS, guard_frozen

        # The policy simulator decides tickets too; their history is read here, above it.
        register_ticket_facts_reader(facts_for_ticket)
        post_migrate.connect(ensure_schedules, sender=self, dispatch_uid="tickets_schedules")
        # A legal hold freezes order data and resolutions for every writer, the admin too.
        for model in FROZEN_MODELS:
            pre_save.connect(guard_frozen, sender=model, dispatch_uid=f"legal_hold_{model.__name__}")
            pre_delete.connect(guard_frozen, sender=model,
                               dispatch_uid=f"legal_hold_delete_{model.__name__}")
