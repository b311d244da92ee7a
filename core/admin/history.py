"""Admin base classes: every write goes through a service, and history only shows the past."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from import_export import resources
from simple_history.admin import SimpleHistoryAdmin

from core.services import admin_writes as services
from core.services.exceptions import Conflict


class ServiceWrites:
    """Admin mix-in whose saves and deletes call services, never the model directly.

    Rows edited by hand go through `core.services.admin_writes` (the model permission check and an
    audited save); a ModelAdmin whose rows have rules of their own overrides `save_model`
    to call its app's service instead. Reasons are the stable keys "admin:add",
    "admin:edit" and "admin:delete".
    """

    def save_model(self, request, obj, form, change):
        services.record_save(record=obj, actor=request.user,
                             reason="admin:edit" if change else "admin:add")

    def delete_model(self, request, obj):
        services.record_delete(record=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        services.records_delete(records=queryset, actor=request.user)

    def save_related(self, request, form, formsets, change):
        # What form.save_m2m() would set: the many-to-many fields the form edits.
        relations = {field.name: form.cleaned_data[field.name]
                     for field in form.instance._meta.many_to_many
                     if field.name in form.cleaned_data}
        services.record_relations_set(record=form.instance, actor=request.user,
                                      relations=relations)
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change):
        # commit=False writes nothing: it hands back the rows to save and to delete.
        for record in formset.save(commit=False):
            services.record_save(record=record, actor=request.user, reason="admin:edit")
        for record in formset.deleted_objects:
            services.record_delete(record=record, actor=request.user)
        formset.save_m2m()


class ServiceWritesAdmin(ServiceWrites, admin.ModelAdmin):
    """ModelAdmin of a model without history whose writes call services."""


class ReadOnlyHistoryAdmin(ServiceWrites, SimpleHistoryAdmin):
    """SimpleHistoryAdmin that writes through services and refuses to revert.

    SIMPLE_HISTORY_REVERT_DISABLED only hides the revert button; a POST to a historical
    version's page would still overwrite the object with the old values, around every
    service and state machine. History is evidence, so that door stays shut.
    """

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class ServiceImportResource(resources.ModelResource):
    """Spreadsheet rows saved through the import service, with the history reason "import"."""

    def do_instance_save(self, instance, is_create):
        services.record_import(record=instance, is_create=is_create)


def refusal_text(error: Exception) -> str:
    """A service's refusal as the one line an admin message shows."""
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    text = getattr(error, "message", "") or str(error)
    return str(text or _("You may not do that."))


class ServiceRefusalsAsMessages(admin.ModelAdmin):
    """Save the whole change form in one transaction; a service's refusal undoes it all and
    comes back as an error message on the same page."""

    def changeform_view(self, request: HttpRequest, object_id: str | None = None,
                        form_url: str = "", extra_context: dict | None = None) -> HttpResponse:
        try:
            with transaction.atomic():
                return super().changeform_view(request, object_id, form_url, extra_context)
        except (ValidationError, Conflict, PermissionDenied) as error:
            self.message_user(request, refusal_text(error), messages.ERROR)
            return redirect(request.get_full_path())
