"""Admin for supervision: QA reviews, major incidents and legal holds.

Nothing here writes around the services: reviews are scored on the QA page, and incidents
and legal holds change only through their services.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from cs_console.admin_history import ReadOnlyHistoryAdmin
from tickets.models import QA_SCORES, QaReview


@admin.register(QaReview)
class QaReviewAdmin(ReadOnlyHistoryAdmin):
    """Reviews are read here and scored on the QA page, through the service."""

    list_display = ["ticket", "source", "state", "reviewer", "created_at", "completed_at",
                    *QA_SCORES, "score_link"]
    list_filter = ["state", "source", "sampled_on", "reviewer"]
    search_fields = ["=ticket__number", "findings", "reviewer__username"]
    list_select_related = ["ticket", "reviewer"]
    date_hierarchy = "created_at"
    readonly_fields = ["ticket", "source", "state", "survey", "sampled_on", "reviewer",
                       *QA_SCORES, "findings", "created_at", "completed_at"]

    @admin.display(description=_("QA page"))
    def score_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("qa-review", args=[obj.pk]),
                           _("Open"))

    def has_add_permission(self, request):
        return False  # queued by the sampling job, complaints and low ratings

    def has_change_permission(self, request, obj=None):
        return False  # scored on the QA page through qa_review_submit

    def has_delete_permission(self, request, obj=None):
        return False
