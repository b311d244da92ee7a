"""Admin base class whose history pages only ever show the past."""

from django.core.exceptions import PermissionDenied
from simple_history.admin import SimpleHistoryAdmin


class ReadOnlyHistoryAdmin(SimpleHistoryAdmin):
    """SimpleHistoryAdmin that records why an object changed and refuses to revert.

    SIMPLE_HISTORY_REVERT_DISABLED only hides the revert button; a POST to a historical
    version's page would still overwrite the object with the old values, around every
    service and state machine. History is evidence, so that door stays shut.
    """

    def save_model(self, request, obj, form, change):
        # Record the edit like every other change: who, and a stable reason key.
        obj._history_user = request.user
        obj._change_reason = "admin:edit" if change else "admin:add"
        super().save_model(request, obj, form, change)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)
