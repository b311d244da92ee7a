from django.contrib import admin
from import_export.admin import ImportExportMixin

from core.admin.history import ReadOnlyHistoryAdmin, ServiceImportResource
from sla.models import SlaPolicy


class SlaPolicyResource(ServiceImportResource):
    """One row per priority and complaint level, which is also the row's key."""

    class Meta:
        model = SlaPolicy
        import_id_fields = ["priority", "complaint_level"]
        fields = ["priority", "complaint_level", "first_response_minutes", "resolution_minutes",
                  "update_interval_minutes", "escalate_after_minutes", "clock", "work_starts",
                  "work_ends", "source"]
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True


@admin.register(SlaPolicy)
class SlaPolicyAdmin(ImportExportMixin, ReadOnlyHistoryAdmin):
    resource_classes = [SlaPolicyResource]
    list_display = ["__str__", "first_response_minutes", "resolution_minutes",
                    "update_interval_minutes", "escalate_after_minutes", "clock"]
    list_filter = ["priority", "complaint_level", "clock"]
    search_fields = ["source"]
    ordering = ["priority", "complaint_level"]
