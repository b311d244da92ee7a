"""The rule table and approval limits in Django admin: read-only live rows, changes proposed.

A live row is never edited here. "Propose a change" opens the row's form; its preview shows
the difference with the live row, and confirming puts it into the supervisor's draft change set
(policies.services.changesets), which they submit and a second person approves on the change
set's page (supervision/admin.py, beside the backtest). Spreadsheet export stays; import is
gone, since an imported sheet would have edited live rows around the approval.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources
from import_export.admin import ExportMixin

from core.admin.history import ReadOnlyHistoryAdmin, refusal_text
from core.admin.widgets import ChoiceListWidget
from core.db.scope import reads_from_replica
from core.services.exceptions import Conflict
from policies.models import LIST_CHOICES, ApprovalLimit, PolicyRule
from policies.services import changesets


class PolicyRuleResource(resources.ModelResource):
    """Rows keyed by id, for reading the table in a spreadsheet (export only)."""

    class Meta:
        model = PolicyRule
        exclude = ["created_at"]

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        for name in LIST_CHOICES:
            self.fields[name] = fields.Field(attribute=name, column_name=name,
                                             widget=ChoiceListWidget())


class PolicyRuleForm(forms.ModelForm):
    """List columns as checkboxes, so only known values can be chosen."""

    class Meta:
        model = PolicyRule
        fields = [field.name for field in PolicyRule._meta.concrete_fields
                  if field.editable and not field.primary_key]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, choices in LIST_CHOICES.items():
            model_field = PolicyRule._meta.get_field(name)
            assert isinstance(model_field, models.Field)  # a column, not a reverse relation
            self.fields[name] = forms.MultipleChoiceField(
                label=model_field.verbose_name, help_text=model_field.help_text,
                choices=choices, required=False, widget=forms.CheckboxSelectMultiple,
            )


class ProposeChangesAdmin(ReadOnlyHistoryAdmin):
    """Live rows read-only; "propose" views put edits into the user's draft change set."""

    propose_form: type[forms.ModelForm]

    def has_add_permission(self, request, obj=None):
        return False  # a new row is proposed (propose_view without a row)

    def has_change_permission(self, request, obj=None):
        return False  # not even a superuser edits a live row: changes need a second person

    def has_delete_permission(self, request, obj=None):
        return False  # decisions cite rules; retire a rule by proposing its deactivation

    def has_propose_permission(self, request, obj=None):
        return request.user.has_perm("policies.change_policychangeset")

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_propose"
        custom = [path("<int:pk>/propose/", self.admin_site.admin_view(self.propose_view),
                       name=name)]
        return custom + super().get_urls()

    def render_change_form(self, request, context, add=False, change=False, form_url="",
                           obj=None):
        context["can_propose"] = self.has_propose_permission(request)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}),
                         "can_propose": self.has_propose_permission(request)}
        return super().changelist_view(request, extra_context)

    def propose(self, request, row, values: dict[str, Any]):
        raise NotImplementedError

    def propose_view(self, request, pk: int | None = None):
        """The row's form; "preview" shows the difference, "add" puts it into the draft."""
        if not self.has_propose_permission(request):
            raise PermissionDenied
        live = get_object_or_404(self.model, pk=pk) if pk is not None else None
        editing = self.model.objects.get(pk=pk) if pk is not None else None  # the form's copy
        form = self.propose_form(request.POST or None, instance=editing)
        preview = None
        if request.method == "POST" and form.is_valid():
            before = changesets.values_of(live) if live is not None else {}
            after = changesets.values_of(form.instance)
            labels = {field.name: field.verbose_name
                      for field in changesets.editable_fields(self.model)}
            preview = [(labels[name], before.get(name), after[name])
                       for name in changesets.changed_fields(before, after)]
            if "_confirm" in request.POST:
                values = {name: form.cleaned_data[name] for name in form.cleaned_data
                          if name in labels}
                try:
                    item = self.propose(request, live, values)
                except (ValidationError, Conflict, PermissionDenied) as error:
                    self.message_user(request, refusal_text(error), messages.ERROR)
                else:
                    self.message_user(
                        request,
                        _("Added to your draft change set #%(id)s. Submit it there for "
                          "approval; nothing changes before a second person approves it.")
                        % {"id": item.change_set_id}, messages.SUCCESS)
                    return redirect(reverse("admin:policies_policychangeset_change",
                                            args=[item.change_set_id]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts, "title": _("Propose a change"), "form": form, "row": live,
            "preview": preview,
        }
        return TemplateResponse(request, "admin/policies/propose.html", context)


@admin.register(PolicyRule)
class PolicyRuleAdmin(ExportMixin, ProposeChangesAdmin):
    propose_form = PolicyRuleForm
    change_list_template = "admin/policies/policyrule/change_list.html"
    resource_classes = [PolicyRuleResource]
    list_display = ["priority", "name_zh", "name", "kind", "verdict", "approval_role",
                    "payer", "auto_execute", "statutory", "is_active"]
    list_display_links = ["priority", "name_zh", "name"]
    list_filter = ["kind", "verdict", "is_active", "auto_execute", "statutory", "payer"]
    search_fields = ["name", "name_zh", "source", "explanation_zh", "explanation_en"]
    ordering = ["priority", "id"]
    actions = ["propose_copies", "propose_deactivation"]

    def get_export_data(self, file_format, request, queryset, **kwargs):
        # The spreadsheet only reads the table: the read replica may serve it (core.db).
        return reads_from_replica(super().get_export_data)(file_format, request, queryset,
                                                           **kwargs)
    fieldsets = [
        (None, {"fields": ["name_zh", "name", "kind", "priority", "is_active",
                           ("effective_from", "effective_to"), "source"]}),
        (_("What agents read"), {
            "description": _("Shown to agents beside the option, in their language, instead "
                             "of the rule's number and source."),
            "fields": ["explanation_zh", "explanation_en"],
        }),
        (_("When it applies (empty means any)"), {
            "description": _("Every filled condition must hold. Windows count from sign-off."),
            "fields": ["categories", "required_flags", "excluded_flags", "reasons",
                       "item_conditions", "order_stages", "customer_tiers", "evidence_any",
                       "evidence_absent", ("within_days", "after_days"),
                       ("within_hours", "after_hours"), "warranty",
                       ("min_order_amount", "max_order_amount"), "max_item_amount",
                       ("min_refunds_90d", "max_refunds_90d"),
                       ("min_disputes_90d", "max_disputes_90d"), "min_merchant_silent_hours",
                       "min_carrier_silent_hours", "sign_off_known", "claims_statutory"],
        }),
        (_("What it gives"), {
            "fields": ["verdict", "approval_role", "freight_payer", "payer", "refund_rule",
                       ("refund_percent", "refund_cap"),
                       ("compensation_percent", "compensation_base"),
                       ("compensation_min", "compensation_cap"),
                       "coupon_amount", "points", "warranty_extension_months", "auto_execute",
                       "statutory"],
        }),
    ]

    def get_fieldsets(self, request, obj=None):
        # Columns added to the model after these fieldsets were written still show.
        entries: list[Any] = [entry for _title, options in self.fieldsets
                              for entry in options["fields"]]  # type: ignore[index]
        listed = {name for entry in entries
                  for name in (entry if isinstance(entry, tuple) else (entry,))}
        rest = [field.name for field in changesets.editable_fields(PolicyRule)
                if field.name not in listed]
        return [*self.fieldsets, (_("Other"), {"fields": rest})] if rest else self.fieldsets

    def get_urls(self):
        custom = [path("propose/", self.admin_site.admin_view(self.propose_view),
                       name="policies_policyrule_propose_new")]
        return custom + super().get_urls()

    def propose(self, request, row, values):
        return changesets.propose_rule(actor=request.user, rule=row, values=values)

    @admin.action(description=_("Propose inactive copies of the selected rules"),
                  permissions=["propose"])
    def propose_copies(self, request, queryset):
        count = changesets.propose_copies(actor=request.user, rules=queryset)
        self.message_user(request, _("%(count)d copies added to your draft change set.")
                          % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Propose deactivating the selected rules"),
                  permissions=["propose"])
    def propose_deactivation(self, request, queryset):
        count = changesets.propose_deactivation(actor=request.user, rules=queryset)
        self.message_user(request, _("%(count)d deactivations added to your draft change set.")
                          % {"count": count}, messages.SUCCESS)


class ApprovalLimitForm(forms.ModelForm):
    class Meta:
        model = ApprovalLimit
        fields = [field.name for field in changesets.editable_fields(ApprovalLimit)]


@admin.register(ApprovalLimit)
class ApprovalLimitAdmin(ProposeChangesAdmin):
    propose_form = ApprovalLimitForm
    list_display = ["role", "max_amount", "note"]
    search_fields = ["role", "note"]

    def propose(self, request, row, values):
        return changesets.propose_limit(actor=request.user, limit=row, values=values)
