"""Read-only admin of the outbox, so QA can see exactly what was sent to whom, and when."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from notifications.models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = [
        "created_at", "channel", "template", "ticket", "recipient_display", "status",
        "attempts", "sent_at",
    ]
    list_filter = ["channel", "status", "template"]
    list_select_related = ["ticket", "recipient_user", "recipient_customer"]
    search_fields = ["=ticket__number", "=address"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    # The full address stays out of the page; phone numbers are shown masked.
    fields = readonly_fields = (
        "ticket", "channel", "template", "recipient_user", "recipient_customer",
        "recipient_display", "subject", "body", "context", "status", "attempts", "last_error",
        "created_at", "next_attempt_at", "sent_at", "read_at", "dedupe_key",
    )

    @admin.display(description=_("recipient"))
    def recipient_display(self, obj: OutboxMessage) -> str:
        if obj.recipient_user_id:
            return str(obj.recipient_user)
        return obj.masked_address

    # The outbox is written by the notification service only, and never edited or deleted.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
