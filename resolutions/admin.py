from resolutions.models import Resolution
from tickets.admin import ReadOnlyInline, TicketAdmin


class ResolutionInline(ReadOnlyInline):
    model = Resolution
    fields = readonly_fields = (
        "created_at", "kind", "state", "refund_amount", "compensation_amount", "proposed_by")


# The ticket's admin page lists its resolutions too; tickets sits below resolutions, so the
# inline is added from here.
TicketAdmin.inlines = [*TicketAdmin.inlines, ResolutionInline]
